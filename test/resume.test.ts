import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// A 5xx (here: the instance died) is not a final answer: the client's retry with the same key resumes
// the attempt from its last recorded phase once the dead worker's lease has run out. Recovery is held
// off (a long interval) so that the retry alone must do it.
const LEASE_MS = 3000;

describe('a retry with the same key resumes an abandoned attempt', () => {
  let stack: TestStack;
  let db: pg.Pool;
  let users = 0;

  before(async () => {
    stack = await startTestStack({
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
      CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
      RECOVERY_INTERVAL_MS: '600000',
    });
    db = stack.db;
    // The gaps these tests stop a process in are those nobody else fills: the provider's webhooks, which
    // would settle its attempts first, are held for the whole file (test/webhooks.test.ts has them).
    await stack.fault('payment', { mode: 'none', webhooks: 'hold' });
  });
  after(() => stack?.stop());

  for (const point of [
    'checkout.after_attempt_recorded',
    'checkout.after_reserve_call',
    'checkout.after_charge_call',
  ]) {
    test(`died at ${point}: in use while leased, then resumed to one order and one charge`, async () => {
      const { cartId, token } = await stack.cart(`usr_resume_${users++}`);
      const request = (baseUrl?: string) =>
        stack.api('POST', '/api/checkout/complete', {
          token,
          baseUrl,
          body: { cartId, paymentToken: 'pm_card_visa' },
          headers: { 'idempotency-key': `resume-${point}` },
        });
      const doomed = await stack.serve({
        STEADFAST_FAILPOINT: `${point}:kill`,
        CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
        RECOVERY_INTERVAL_MS: '600000',
      });
      await assert.rejects(request(doomed.url));
      await doomed.exited;
      const phase = (await db.query('SELECT phase FROM checkout_attempts WHERE cart_id = $1', [cartId]))
        .rows[0]?.phase;
      assert.notEqual(phase, 'completed');

      const early = await request();
      assert.equal(early.status, 409);
      assert.equal(early.body.error, 'IDEMPOTENCY_KEY_IN_USE');

      await sleep(LEASE_MS);
      const resumed = await request();
      assert.equal(resumed.status, 201, resumed.text);
      const attempts = async () =>
        (await db.query('SELECT phase, stock_committed FROM checkout_attempts WHERE cart_id = $1', [cartId]))
          .rows;
      // Its stock is sold just after the answer, with the next batch.
      await eventually(
        async () => JSON.stringify(await attempts()) === '[{"phase":"completed","stock_committed":true}]',
        5000,
        'the same attempt, finished',
      );
      const reconciled = await stack.reconcile();
      assert.equal(reconciled.code, 0, reconciled.stdout);
      assert.equal((await request()).text, resumed.text, 'then replayed');
    });
  }

  test('a resumed charge refused by the open breaker does not unwind: the first call may have charged', async () => {
    const { cartId, token } = await stack.cart(`usr_resume_${users++}`);
    const request = (baseUrl: string) =>
      stack.api('POST', '/api/checkout/complete', {
        token,
        baseUrl,
        body: { cartId, paymentToken: 'pm_card_visa' },
        headers: { 'idempotency-key': 'resume-breaker' },
      });
    // One failure opens this instance's payment breaker; it lets a probe through a second later.
    const instance = await stack.serve({
      CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
      RECOVERY_INTERVAL_MS: '600000',
      PAYMENT_TIMEOUT_MS: '500',
      PAYMENT_BREAKER_THRESHOLD: '1',
      PAYMENT_BREAKER_HALF_OPEN_MS: String(LEASE_MS + 2000),
    });
    try {
      // The gateway charges, its answer is lost (and its webhook held): the outcome is unknown, and the
      // breaker opens.
      await stack.fault('payment', { mode: 'charge-then-hang' });
      try {
        assert.equal((await request(instance.url)).status, 503);
      } finally {
        await stack.fault('payment', { mode: 'none' });
      }
      await sleep(LEASE_MS);
      // The retry takes the attempt over; its charge call never leaves (breaker open). The charge
      // made by the first call must not be orphaned by unwinding the attempt.
      const refused = await request(instance.url);
      assert.equal(refused.status, 503);
      const phase = (await db.query('SELECT phase FROM checkout_attempts WHERE cart_id = $1', [cartId])).rows;
      assert.deepEqual(phase, [{ phase: 'started' }], 'still open: the gateway is asked, not guessed at');

      // Once its lease has run out and the breaker lets a probe through, a retry charges with the same
      // key: the gateway answers with the charge it made, and the order is made.
      await sleep(LEASE_MS + 200);
      const resumed = await request(instance.url);
      assert.equal(resumed.status, 201, resumed.text);
      const orders = await db.query('SELECT 1 FROM orders WHERE cart_id = $1', [cartId]);
      assert.equal(orders.rowCount, 1);
      const reconciled = await stack.reconcile();
      assert.equal(reconciled.code, 0, reconciled.stdout);
    } finally {
      instance.child.kill('SIGTERM');
      await instance.exited;
    }
  });
});
