import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startTestStack, type TestStack } from './support/stack.ts';

// No user can hurt another: whatever user A sends (any text, numbers past every limit, any key, someone
// else's ids, enough to be rate limited), A gets a 4xx at worst, and user B's checkout right after answers
// 201 with every breaker closed and nothing of A's in it. ISOLATION_RUNS sets the number of A's sequences
// (25 by default); FUZZ_SEED replays one.
const RUNS = Number(process.env.ISOLATION_RUNS ?? 25);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** Text over the whole code point range, with what storage and terminals choke on mixed in. */
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .array(
      fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 4 }),
        fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
        fc.integer({ min: 0x7f, max: 0x9f }).map((c) => String.fromCharCode(c)),
        fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
        fc.constantFrom('\u202e', '\u200b', '\ufeff', '\uffff', 'e\u0301\u0301', '\u001b[2J', "'; --", '%00'),
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join('')),
  fc.constantFrom('a'.repeat(255), 'a'.repeat(256), 'é'.repeat(200), '😀'.repeat(100)),
);

/** A header's value: what a client can put on the wire (latin1 less the controls an HTTP client refuses; C1 pass). */
const hostileHeader = fc
  .string({
    unit: fc
      .integer({ min: 0x1f, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => (c === 0x1f ? 0x09 : c))
      .map((c) => String.fromCharCode(c)),
    maxLength: 300,
  })
  .filter((s) => s.trim().length > 0);

/** Numbers at and past the limits of what stores them: int4, int8, doubles, and sums of them. */
const hostileQuantity = fc.oneof(
  fc.integer({ min: 1, max: 1000 }),
  fc.constantFrom(0, -1, 1001, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 2 ** 63, 1e308, -0, 0.5, '1', null),
  fc.double(),
);

/** A path segment for any string: a lone surrogate goes as the bytes UTF-8 would give it, which are invalid. */
const segment = (text: string) =>
  [...text]
    .map((char) => {
      const code = char.charCodeAt(0);
      if (char.length > 1 || code < 0xd800 || code > 0xdfff) return encodeURIComponent(char);
      return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join('');
    })
    .join('');

type Command =
  | { kind: 'cart' }
  | { kind: 'add'; cart: number; sku: string | number; quantity: unknown }
  | { kind: 'checkout'; cart: number | string; paymentToken: string; key: string | undefined }
  | { kind: 'read'; what: 'carts' | 'orders'; id: string };

describe('no user can hurt another', () => {
  let stack: TestStack;
  let skus: string[];
  let bUsers = 0;

  before(async () => {
    // A is rate limited within a sequence or two; B, a fresh user each time, never is.
    // A short keep-alive, to see every service keep to it (a client holding idle connections costs nobody else).
    stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '20', KEEP_ALIVE_TIMEOUT_MS: '1500' });
    skus = (await stack.db.query<{ sku: string }>('SELECT sku FROM products ORDER BY sku')).rows.map(
      (r) => r.sku,
    );
    for (const sku of skus) await stack.restock(sku, 1_000_000);
  });
  after(() => stack?.stop());

  test(`${RUNS} sequences of user A, each followed by user B's checkout`, async () => {
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.constant({ kind: 'cart' as const }),
      fc.record({
        kind: fc.constant('add' as const),
        cart: fc.nat(3),
        sku: fc.oneof(fc.constantFrom(...skus), hostileText, fc.integer()),
        quantity: hostileQuantity,
      }),
      fc.record({
        kind: fc.constant('checkout' as const),
        cart: fc.oneof(fc.nat(3), hostileText, fc.uuid()),
        paymentToken: fc.oneof(
          fc.constantFrom(
            'pm_card_visa',
            'pm_card_chargeDeclined',
            'pm_card_chargeDeclinedInsufficientFunds',
            'pm_card_nope',
          ),
          hostileText,
        ),
        key: fc.option(fc.oneof(hostileHeader, fc.constantFrom('k1', 'k2')), { nil: undefined }),
      }),
      fc.record({
        kind: fc.constant('read' as const),
        what: fc.constantFrom('carts' as const, 'orders' as const),
        id: fc.oneof(hostileText, fc.uuid()),
      }),
    );

    const aToken = await stack.token('usr_isolation_a');
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 12 }), async (commands) => {
        const carts: string[] = [];
        const seenOfA = new Set<string>();
        const cartOf = (ref: number | string) =>
          typeof ref === 'number' ? (carts[ref % Math.max(carts.length, 1)] ?? 'no-cart-yet') : ref;
        for (const step of commands) {
          const answer = await runAs(aToken, step, cartOf);
          if (answer.status === 201 && typeof answer.body.cartId === 'string') carts.push(answer.body.cartId);
          for (const value of [answer.body.cartId, answer.body.orderId, answer.body.transactionId]) {
            if (typeof value === 'string') seenOfA.add(value);
          }
          assert.ok(answer.status < 500, `A's ${JSON.stringify(step)} -> ${answer.status} ${answer.text}`);
        }

        const b = await stack.cart(`usr_isolation_b_${bUsers++}`);
        const answer = await stack.api('POST', '/api/checkout/complete', {
          token: b.token,
          body: { cartId: b.cartId, paymentToken: 'pm_card_visa' },
        });
        assert.equal(
          answer.status,
          201,
          `B after ${JSON.stringify(commands)}: ${answer.status} ${answer.text}`,
        );
        for (const value of seenOfA) assert.ok(!answer.text.includes(value), `B's answer holds A's ${value}`);
        const health = await stack.api('GET', '/health', { token: null });
        for (const [name, state] of Object.entries(health.body.circuitBreakers as Record<string, string>)) {
          assert.equal(state, 'CLOSED', `${name} breaker after ${JSON.stringify(commands)}`);
        }
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
  });

  test('every service closes an idle connection after KEEP_ALIVE_TIMEOUT_MS', async () => {
    for (const url of [stack.info.checkoutUrl, stack.info.inventoryUrl, stack.info.paymentUrl]) {
      const { port } = new URL(url);
      const socket = connect(Number(port), '127.0.0.1');
      const answered = once(socket, 'data');
      socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      await answered;
      const idleSince = performance.now();
      await once(socket, 'close');
      const idleMs = performance.now() - idleSince;
      assert.ok(
        idleMs > 1000 && idleMs < 10_000,
        `${url} closed an idle connection after ${Math.round(idleMs)} ms`,
      );
    }
  });

  async function runAs(token: string, step: Command, cartOf: (ref: number | string) => string) {
    switch (step.kind) {
      case 'cart':
        return stack.api('POST', '/api/carts', { token });
      case 'add':
        return stack.api('POST', `/api/carts/${segment(cartOf(step.cart))}/items`, {
          token,
          body: { sku: step.sku, quantity: step.quantity },
        });
      case 'checkout':
        return stack.api('POST', '/api/checkout/complete', {
          token,
          body: { cartId: cartOf(step.cart), paymentToken: step.paymentToken },
          headers: step.key === undefined ? {} : { 'idempotency-key': step.key },
        });
      case 'read':
        return stack.api('GET', `/api/${step.what}/${segment(step.id)}`, { token });
    }
  }
});
