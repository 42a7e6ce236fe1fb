import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type pg from 'pg';
import { CHECKOUT_FAILPOINTS } from '../src/checkout/flow/CheckoutService.ts';
import { type ExtraInstance, eventually, startTestStack, type TestStack } from './support/stack.ts';

// Random sequences of checkouts, retries, crashes and dependency faults against the real stack; after
// each sequence the invariants of section 5 must hold (`steadfast reconcile` clean) and every 201 must
// be one order, replayed identically. FUZZ_RUNS sets the number of sequences (`npm run fuzz`: many).
const RUNS = Number(process.env.FUZZ_RUNS ?? 3);
const LEASE_MS = 1500;

type Op =
  | { kind: 'checkout'; keyed: boolean; token: 'pm_card_visa' | 'pm_card_chargeDeclined' }
  | { kind: 'retry' }
  | { kind: 'fault'; service: 'payment' | 'inventory'; mode: string; rate: number }
  | { kind: 'crash' }
  | { kind: 'crashAt'; failpoint: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('checkout' as const),
      keyed: fc.boolean(),
      token: fc.constantFrom('pm_card_visa' as const, 'pm_card_chargeDeclined' as const),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'retry' as const }) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.record({
        kind: fc.constant('fault' as const),
        service: fc.constant('payment' as const),
        mode: fc.constantFrom('none', 'error', 'hang', 'reset', 'charge-then-hang', 'latency'),
        rate: fc.constantFrom(0.5, 1),
      }),
      fc.record({
        kind: fc.constant('fault' as const),
        service: fc.constant('inventory' as const),
        mode: fc.constantFrom('none', 'error', 'hang', 'reset'),
        rate: fc.constantFrom(0.5, 1),
      }),
    ),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('crashAt' as const),
      failpoint: fc.constantFrom(...CHECKOUT_FAILPOINTS),
    }),
  },
);

describe('property: any sequence of checkouts, retries, crashes and faults keeps the invariants', () => {
  let stack: TestStack;
  let db: pg.Pool;
  let sequence = 0;

  before(async () => {
    stack = await startTestStack({
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
      CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
      RECOVERY_INTERVAL_MS: '300',
      LATE_CHARGE_RECHECK_MS: '2000',
      PAYMENT_TIMEOUT_MS: '600',
      INVENTORY_TIMEOUT_MS: '400',
      PAYMENT_BREAKER_HALF_OPEN_MS: '1000',
      INVENTORY_BREAKER_HALF_OPEN_MS: '1000',
    });
    db = stack.db;
  });
  after(() => stack?.stop());

  test(`${RUNS} random sequences`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 3, maxLength: 8 }), async (ops) => {
        const run = sequence++;
        const user = `usr_fuzz_${run}`;
        const token = await stack.token(user);
        const spawnInstance = () =>
          stack.serve({
            CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
            PAYMENT_TIMEOUT_MS: '600',
            INVENTORY_TIMEOUT_MS: '400',
          });
        let instance: ExtraInstance = await spawnInstance();
        const keyed: { cartId: string; key: string; paymentToken: string; first?: string }[] = [];
        const confirmed = new Map<string, string>();
        try {
          for (const [i, op] of ops.entries()) {
            if (op.kind === 'fault')
              await stack.fault(op.service, { mode: op.mode, rate: op.rate, latencyMs: 300 });
            if (op.kind === 'crash') {
              instance.child.kill('SIGKILL');
              await instance.exited;
              instance = await spawnInstance();
            }
            if (op.kind === 'crashAt') {
              // A keyed checkout on an instance that dies at the chosen point; the key is retried later.
              const doomed = await stack.serve({
                CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
                STEADFAST_FAILPOINT: `${op.failpoint}:kill`,
              });
              const { cartId } = await stack.cart(user, [{ sku: 'sku_sticker_pack', quantity: 1 }]);
              const target = { cartId, key: `fuzz-${run}-${i}`, paymentToken: 'pm_card_visa' };
              keyed.push(target);
              const response = await stack
                .api('POST', '/api/checkout/complete', {
                  token,
                  baseUrl: doomed.url,
                  body: { cartId, paymentToken: target.paymentToken },
                  headers: { 'idempotency-key': target.key },
                })
                .catch(() => undefined);
              // A fault may stop the request before it reaches the failpoint: then the instance lives on.
              if (response?.status === 201) confirmed.set(cartId, String(response.body.orderId));
              doomed.child.kill('SIGKILL');
              await doomed.exited;
            }
            if (op.kind === 'checkout' || (op.kind === 'retry' && keyed.length > 0)) {
              let target: (typeof keyed)[number];
              if (op.kind === 'checkout') {
                const { cartId } = await stack.cart(user, [{ sku: 'sku_sticker_pack', quantity: 1 }]);
                target = { cartId, key: op.keyed ? `fuzz-${run}-${i}` : '', paymentToken: op.token };
                if (op.keyed) keyed.push(target);
              } else {
                target = keyed[keyed.length - 1] as (typeof keyed)[number];
              }
              const response = await stack
                .api('POST', '/api/checkout/complete', {
                  token,
                  baseUrl: instance.url,
                  body: { cartId: target.cartId, paymentToken: target.paymentToken },
                  headers: target.key ? { 'idempotency-key': target.key } : {},
                })
                .catch(() => undefined);
              // Whatever happens, an answer is honest: a 201, a final 4xx, or a 503 to retry.
              if (response) {
                assert.ok(
                  [201, 402, 409, 503].includes(response.status),
                  `unexpected ${response.status}: ${response.text}`,
                );
                if (response.status === 201) confirmed.set(target.cartId, String(response.body.orderId));
                if (
                  target.key &&
                  response.status !== 503 &&
                  response.body.error !== 'IDEMPOTENCY_KEY_IN_USE'
                ) {
                  if (target.first)
                    assert.equal(response.text, target.first, 'a final answer is replayed identically');
                  target.first ??= response.text;
                }
              }
            }
          }
        } finally {
          await stack.fault('payment', { mode: 'none' });
          await stack.fault('inventory', { mode: 'none' });
          instance.child.kill('SIGKILL');
          await instance.exited;
        }
        // Let the recovery workers settle whatever the sequence left behind, then check everything.
        await eventually(() => stack.settled({ userId: user }), 30_000, 'all attempts settled');
        for (const [cartId, orderId] of confirmed) {
          const orders = await db.query('SELECT id FROM orders WHERE cart_id = $1', [cartId]);
          assert.deepEqual(
            orders.rows.map((r) => r.id),
            [orderId],
            'a 201 is exactly one order',
          );
        }
        const reconciled = await stack.reconcile();
        assert.equal(reconciled.code, 0, `${reconciled.stdout}\nops: ${JSON.stringify(ops)}`);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});
