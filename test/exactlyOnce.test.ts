import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { CHECKOUT_FAILPOINTS } from '../src/checkout/flow/CheckoutService.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// Issue "Exactly once": never charge twice, never lose a paid order, whatever crashes or retries.
const LEASE_MS = 1500;

describe('exactly once: idempotent, crash-safe checkout', () => {
  let stack: TestStack;
  let db: pg.Pool;
  let users = 0;

  const checkout = (cartId: string, token: string, key?: string, baseUrl?: string) =>
    stack.api('POST', '/api/checkout/complete', {
      token,
      baseUrl,
      body: { cartId, paymentToken: 'pm_card_visa' },
      headers: key ? { 'idempotency-key': key } : {},
    });
  const ordersOf = async (cartId: string) =>
    (await db.query('SELECT id, charge_id FROM orders WHERE cart_id = $1', [cartId])).rows;
  const settled = (cartId: string) => stack.settled({ cartId });
  const assertReconciled = async () => {
    const result = await stack.reconcile();
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /clean/);
  };

  before(async () => {
    stack = await startTestStack({
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
      CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
      RECOVERY_INTERVAL_MS: '300',
      PAYMENT_TIMEOUT_MS: '1000',
      LATE_CHARGE_RECHECK_MS: '4000',
      // Short half-open delays: the sandboxes answer 5xx while PostgreSQL restarts, and the breakers open.
      PAYMENT_BREAKER_HALF_OPEN_MS: '2000',
      INVENTORY_BREAKER_HALF_OPEN_MS: '2000',
    });
    db = stack.db;
    // The gaps these tests stop a process in are those nobody else fills: the provider's webhooks, which
    // would settle its attempts first, are held for the whole file (test/webhooks.test.ts has them).
    await stack.fault('payment', { mode: 'none', webhooks: 'hold' });
  });
  after(() => stack?.stop());

  test('50 concurrent requests, same key and body: one charge, one order, every answer identical', async () => {
    const { cartId, token } = await stack.cart(`usr_herd_${users++}`);
    await stack.fault('payment', { mode: 'latency', latencyMs: 200 });
    try {
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => checkout(cartId, token, 'herd-key')),
      );
      // Not final, to be retried: the key is in use, or the instance refused the request at the door.
      const retryable = new Set(['IDEMPOTENCY_KEY_IN_USE', 'SERVER_OVERLOADED']);
      const answered = responses.filter((r) => !retryable.has(String(r.body.error)));
      assert.ok(answered.length >= 1);
      for (const r of answered) {
        assert.equal(r.status, 201, r.text);
        assert.equal(r.text, answered[0]?.text);
      }
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    assert.equal((await ordersOf(cartId)).length, 1);
    const retry = await checkout(cartId, token, 'herd-key');
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    await assertReconciled();
  });

  test("keys are scoped to the user: another user's same key is another key", async () => {
    const a = await stack.cart(`usr_scope_a_${users++}`);
    const b = await stack.cart(`usr_scope_b_${users++}`);
    const first = await checkout(a.cartId, a.token, 'shared-key');
    const second = await checkout(b.cartId, b.token, 'shared-key');
    assert.equal(first.status, 201);
    assert.equal(second.status, 201, second.text);
    assert.notEqual(first.body.orderId, second.body.orderId);
  });

  for (const point of CHECKOUT_FAILPOINTS) {
    test(`crash at ${point}: recovery settles it, reconcile is clean, the retry gets the right answer`, async () => {
      const { cartId, token } = await stack.cart(`usr_crash_${users++}`);
      const doomed = await stack.serve({
        STEADFAST_FAILPOINT: `${point}:${users % 2 ? 'kill' : 'exit'}`,
        CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
      });
      const key = `crash-${point}`;
      await assert.rejects(checkout(cartId, token, key, doomed.url), 'the instance died mid-request');
      assert.notEqual(await doomed.exited, 0);
      await eventually(() => settled(cartId), 20_000, `recovery of the attempt crashed at ${point}`);
      await assertReconciled();
      const retry = await checkout(cartId, token, key);
      assert.equal(retry.status, 201, retry.text);
      const orders = await ordersOf(cartId);
      assert.equal(orders.length, 1);
      assert.equal(retry.body.orderId, orders[0]?.id);
      await eventually(() => settled(cartId), 20_000, 'the retry settled');
      await assertReconciled();
    });
  }

  test('crash after the batched stock commit, before it is recorded: answered 201, recovery records it', async () => {
    const { cartId, token } = await stack.cart(`usr_crash_${users++}`);
    const doomed = await stack.serve({
      STEADFAST_FAILPOINT: 'checkout.after_stock_commit_call:kill',
      CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
    });
    const answered = await checkout(cartId, token, 'crash-after-stock-commit', doomed.url);
    assert.equal(answered.status, 201, answered.text);
    assert.notEqual(await doomed.exited, 0, 'the instance died sending the batch');
    await eventually(() => settled(cartId), 20_000, 'stock commit recorded by recovery');
    await assertReconciled();
    assert.equal((await checkout(cartId, token, 'crash-after-stock-commit')).text, answered.text);
  });

  test('a request that outlives its lease is not told a lie: recovery settled its attempt, the answer says retry', async () => {
    const { cartId, token } = await stack.cart(`usr_outlived_${users++}`);
    // The instance stalls past its lease right after recording the attempt; another instance's recovery
    // settles the attempt meanwhile (no charge found: stock released, attempt failed).
    const stalled = await stack.serve({
      STEADFAST_FAILPOINT: 'checkout.after_attempt_recorded:stall=4000',
      CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
      RECOVERY_INTERVAL_MS: '600000',
    });
    try {
      const answer = await checkout(cartId, token, 'outlived', stalled.url);
      assert.equal(answer.status, 409, answer.text);
      assert.equal(answer.body.error, 'CHECKOUT_IN_PROGRESS', 'not INVENTORY_CONFLICT: the stock is there');
      assert.ok(answer.headers.get('retry-after'));
      await eventually(() => settled(cartId), 20_000, 'the attempt settled');
      // A retryable answer is not the key's final one: the retry is not told 409 again, it checks out.
      const retry = await checkout(cartId, token, 'outlived');
      assert.equal(retry.status, 201, retry.text);
      await eventually(() => settled(cartId), 20_000, 'the retry settled');
      await assertReconciled();
    } finally {
      stalled.child.kill('SIGTERM');
      await stalled.exited;
    }
  });

  test('the gateway charges, its answer and its webhook never arrive: no second charge, the order completes via lookup', async () => {
    const { cartId, token } = await stack.cart(`usr_lost_answer_${users++}`);
    await stack.fault('payment', { mode: 'charge-then-hang' });
    let first: Awaited<ReturnType<typeof checkout>>;
    try {
      first = await checkout(cartId, token, 'lost-answer');
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    assert.equal(first.status, 503);
    await eventually(async () => (await ordersOf(cartId)).length === 1, 20_000, 'the order made by recovery');
    const retry = await checkout(cartId, token, 'lost-answer');
    assert.equal(retry.status, 201, retry.text);
    const [order] = await ordersOf(cartId);
    assert.equal(retry.body.orderId, order?.id);
    await eventually(() => settled(cartId), 20_000, 'stock committed');
    await assertReconciled();
  });

  test('a charge that lands after recovery found none is refunded on the second look', async () => {
    const { cartId, token } = await stack.cart(`usr_late_${users++}`);
    // The gateway sits on the charge for 3.5 s: the call times out at 1 s, recovery looks at about
    // 1.5-2 s and finds nothing, the charge lands at 3.5 s, the second look comes 4 s after the first.
    await stack.fault('payment', { mode: 'latency', latencyMs: 3500 });
    let first: Awaited<ReturnType<typeof checkout>>;
    try {
      first = await checkout(cartId, token, 'late-charge');
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    assert.equal(first.status, 503);
    await eventually(
      async () => (await stack.log('checkout')).some((l) => l.msg === 'late_charge_refunded'),
      20_000,
      'the late charge refunded',
    );
    assert.equal((await ordersOf(cartId)).length, 0);
    await assertReconciled();
    const retry = await checkout(cartId, token, 'late-charge');
    assert.equal(retry.status, 201, retry.text);
    await eventually(() => settled(cartId), 20_000, 'settled');
    await assertReconciled();
  });

  test('a decline whose stock release fails: 402, the release stays owed, and recovery gives the stock back', async () => {
    const { cartId, token } = await stack.cart(`usr_release_owed_${users++}`, [
      { sku: 'sku_mug', quantity: 1 },
    ]);
    const before = await stack.stock('sku_mug');
    await stack.fault('payment', { mode: 'latency', latencyMs: 500 });
    let declined: Awaited<ReturnType<typeof checkout>>;
    try {
      const answer = stack.api('POST', '/api/checkout/complete', {
        token,
        body: { cartId, paymentToken: 'pm_card_chargeDeclined' },
        headers: { 'idempotency-key': 'release-owed' },
      });
      // The reservation is made; the inventory goes away before the decline's release.
      await eventually(
        async () => (await stack.stock('sku_mug')).reserved > before.reserved,
        5000,
        'reserved',
      );
      await stack.fault('inventory', { mode: 'error' });
      declined = await answer;
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    assert.equal(declined.status, 402, declined.text);
    const owed = await db.query(
      'SELECT phase, stock_release_pending FROM checkout_attempts WHERE cart_id = $1',
      [cartId],
    );
    assert.deepEqual(owed.rows, [{ phase: 'failed', stock_release_pending: true }]);
    await stack.fault('inventory', { mode: 'none' });
    await eventually(() => settled(cartId), 20_000, 'the release retried by recovery');
    assert.deepEqual(await stack.stock('sku_mug'), before, 'the stock is back');
    await assertReconciled();
  });

  test('PostgreSQL restarted in the middle of a load: no paid order lost, reconcile clean', async () => {
    const carts: { cartId: string; token: string; key: string }[] = [];
    for (let i = 0; i < 20; i++)
      carts.push({ ...(await stack.cart(`usr_restart_${users++}`)), key: `restart-${i}` });
    const finals = new Map<string, number>();
    const deadline = Date.now() + 60_000;
    const drive = async (cart: (typeof carts)[number]) => {
      // A well-behaved client: retries 5xx (and in-flight 409s) with the same key until a final answer.
      while (Date.now() < deadline) {
        const response = await checkout(cart.cartId, cart.token, cart.key).catch(() => undefined);
        const status = response?.status ?? 0;
        if (
          status === 201 ||
          (status >= 400 &&
            status < 500 &&
            response?.body.error !== 'IDEMPOTENCY_KEY_IN_USE' &&
            response?.body.error !== 'CHECKOUT_IN_PROGRESS')
        ) {
          finals.set(cart.cartId, status);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const load = Promise.all(carts.map(drive));
    await new Promise((resolve) => setTimeout(resolve, 150));
    process.kill(stack.info.pids.postgres as number, 'SIGINT');
    await load;
    assert.equal(finals.size, carts.length, 'every client got a final answer');
    for (const cart of carts) {
      assert.equal(finals.get(cart.cartId), 201);
      assert.equal((await ordersOf(cart.cartId)).length, 1);
    }
    await eventually(
      async () => (await Promise.all(carts.map((c) => settled(c.cartId)))).every(Boolean),
      30_000,
      'all settled',
    );
    await assertReconciled();
  });

  test('idempotency keys are kept 24 hours, then purged by the recovery job', async () => {
    const { cartId, token } = await stack.cart(`usr_purge_${users++}`);
    assert.equal((await checkout(cartId, token, 'old-key')).status, 201);
    await db.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = 'old-key'`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(
      (await db.query(`SELECT 1 FROM idempotency_keys WHERE key = 'old-key'`)).rowCount,
      1,
      'kept at 23 h',
    );
    await db.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old-key'`,
    );
    await eventually(
      async () => (await db.query(`SELECT 1 FROM idempotency_keys WHERE key = 'old-key'`)).rowCount === 0,
      10_000,
      'the old key purged',
    );
  });

  test('reconcile finds a breach: a charge that belongs to no order', async () => {
    const env = await stack.api('GET', '/health/live');
    assert.equal(env.status, 200);
    const secrets = JSON.parse(
      await (await import('node:fs/promises')).readFile(`${stack.dataDir}/secrets.json`, 'utf8'),
    );
    // A payment made at the gateway by hand, as Stripe's API takes it: a form body, brackets for metadata.
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const stray = await fetch(`${stack.info.paymentUrl}/v1/payment_intents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets.paymentApiKey}`, ...form },
      body: new URLSearchParams({
        amount: '1234',
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: 'true',
        'metadata[attemptId]': 'stray',
      }).toString(),
    });
    const charge = (await stray.json()) as { id: string };
    const result = await stack.reconcile();
    assert.equal(result.code, 1);
    assert.match(result.stdout, new RegExp(`BREACH charge_without_order: charge ${charge.id}`));
    // Make it right, as an operator would: refund it.
    const refund = await fetch(`${stack.info.paymentUrl}/v1/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets.paymentApiKey}`, ...form },
      body: new URLSearchParams({ payment_intent: charge.id }).toString(),
    });
    assert.equal(refund.status, 200);
    await assertReconciled();
  });
});
