import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type RunningPaymentSandbox, startPaymentSandbox } from '../../../../test/support/paymentSandbox.ts';
import { HttpDependency } from '../../../platform/dependency/HttpDependency.ts';
import { DependencyUnavailableError } from '../../../platform/errors/DependencyUnavailableError.ts';
import type { ChargeRequest } from '../PaymentGateway.ts';
import { CLOCK_SKEW_SECONDS, StripeGateway } from './StripeGateway.ts';

const THRESHOLD = 3;

describe('StripeGateway: every outcome, through the official SDK, against the real payment sandbox [PostgreSQL]', () => {
  let sandbox: RunningPaymentSandbox;
  const open: HttpDependency[] = [];

  /** An adapter with a breaker, timeout and bulkhead of its own, as createGateways builds it. */
  const gateway = (options: { key?: string; timeoutMs?: number } = {}) => {
    const http = new HttpDependency({
      name: 'paymentGateway',
      baseUrl: sandbox.url,
      overloadStatuses: [429],
      timeoutMs: options.timeoutMs ?? 2000,
      breakerThreshold: THRESHOLD,
      halfOpenAfterMs: 60_000,
      maxConcurrent: 4,
      maxQueue: 4,
    });
    open.push(http);
    return { http, payment: new StripeGateway(http, options.key ?? sandbox.apiKey) };
  };

  const charge = (overrides: Partial<ChargeRequest> = {}): ChargeRequest => ({
    attemptId: randomUUID(),
    amountCents: 2800,
    currency: 'usd',
    paymentToken: 'pm_card_visa',
    userId: `user-${randomUUID()}`,
    metadata: { cartId: randomUUID() },
    ...overrides,
  });

  const fault = async (body: Record<string, unknown>) => {
    const response = await fetch(`${sandbox.url}/__sandbox/fault`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200);
  };
  const seen = () => sandbox.faults.current.requestsSeen;

  /** What a rejection must be for the checkout to leave the attempt open: the outcome is unknown. */
  const outcomeUnknown = (reason: string) => (error: unknown) => {
    assert.ok(error instanceof DependencyUnavailableError, String(error));
    assert.equal(error.reason, reason);
    assert.equal(error.outcomeUnknown, true);
    return true;
  };

  before(async () => {
    sandbox = await startPaymentSandbox();
  });
  after(async () => {
    await Promise.all(open.map((http) => http.close()));
    await sandbox?.close();
  });

  test('success: one PaymentIntent per attempt, found at once by recovery, refunded once', async () => {
    const { payment } = gateway();
    const request = charge();
    const startedAt = new Date();
    const first = await payment.charge(request);
    assert.equal(first.outcome, 'succeeded');
    const chargeId = first.outcome === 'succeeded' ? first.chargeId : '';
    assert.match(chargeId, /^pi_/);
    // The same attempt again (a client's retry, a takeover): Stripe replays the first answer.
    assert.deepEqual(await payment.charge(request), first);

    // Read at once, on the consistent list: a search could still miss it (docs/architecture.md section 5).
    assert.deepEqual(await payment.chargesFor({ id: request.attemptId, startedAt }), [
      { id: chargeId, status: 'succeeded', refunded: false, amount: 2800, attemptId: request.attemptId },
    ]);
    await payment.refund(chargeId);
    await payment.refund(chargeId);
    assert.deepEqual(await payment.chargesFor({ id: request.attemptId, startedAt }), [
      { id: chargeId, status: 'succeeded', refunded: true, amount: 2800, attemptId: request.attemptId },
    ]);
    const refunds = await sandbox.db.query('SELECT id FROM refunds WHERE payment_intent_id = $1', [chargeId]);
    assert.equal(refunds.rowCount, 1, 'one refund, however often asked');
  });

  test('the look-up reaches back by the clock skew, no further', async () => {
    const { payment } = gateway();
    const request = charge();
    const made = await payment.charge(request);
    assert.equal(made.outcome, 'succeeded');
    const skewed = new Date(Date.now() + (CLOCK_SKEW_SECONDS - 5) * 1000);
    assert.equal((await payment.chargesFor({ id: request.attemptId, startedAt: skewed })).length, 1);
    const later = new Date(Date.now() + (CLOCK_SKEW_SECONDS + 5) * 1000);
    assert.deepEqual(await payment.chargesFor({ id: request.attemptId, startedAt: later }), []);
    assert.deepEqual(await payment.chargesFor({ id: randomUUID(), startedAt: new Date() }), []);
  });

  test('declines (card_error) are declines, with their code; the attempt is not charged', async () => {
    const { payment, http } = gateway();
    const startedAt = new Date();
    const generic = charge({ paymentToken: 'pm_card_chargeDeclined' });
    assert.deepEqual(await payment.charge(generic), { outcome: 'declined', declineCode: 'generic_decline' });
    assert.deepEqual(
      await payment.charge(charge({ paymentToken: 'pm_card_visa_chargeDeclinedInsufficientFunds' })),
      { outcome: 'declined', declineCode: 'insufficient_funds' },
    );
    const found = await payment.chargesFor({ id: generic.attemptId, startedAt });
    assert.deepEqual(
      found.map((c) => c.status),
      ['requires_payment_method'],
    );
    assert.equal(http.breakerState, 'CLOSED');
  });

  test('an unknown payment method is invalid_payment_method; other invalid requests are errors of ours, never counted', async () => {
    const { payment, http } = gateway();
    assert.deepEqual(await payment.charge(charge({ paymentToken: 'pm_card_nope' })), {
      outcome: 'invalid_payment_method',
    });
    for (let i = 0; i < THRESHOLD + 1; i++) {
      await assert.rejects(payment.charge(charge({ currency: 'usdollars' })), (error: Error) => {
        assert.ok(!(error instanceof DependencyUnavailableError));
        assert.match(error.message, /400 \(invalid_request_error/);
        return true;
      });
    }
    const badKey = gateway({ key: 'sk_test_not_the_sandbox_key' });
    for (let i = 0; i < THRESHOLD + 1; i++) {
      await assert.rejects(badKey.payment.charge(charge()), /401 \(authentication_error/);
    }
    assert.equal(http.breakerState, 'CLOSED');
    assert.equal(badKey.http.breakerState, 'CLOSED');
  });

  test('the same key with other parameters is an error of ours, not a second charge', async () => {
    const { payment } = gateway();
    const request = charge();
    assert.equal((await payment.charge(request)).outcome, 'succeeded');
    await assert.rejects(payment.charge({ ...request, amountCents: 2900 }), /400 \(idempotency_error/);
    const intents = await sandbox.db.query(
      "SELECT id FROM payment_intents WHERE metadata->>'attemptId' = $1",
      [request.attemptId],
    );
    assert.equal(intents.rowCount, 1);
  });

  test('429: outcome unknown, one request (no SDK retry); counted as a 5xx, each user once', async () => {
    const { payment, http } = gateway();
    await fault({ mode: 'error', status: 429 });
    try {
      const before = seen();
      const one = charge();
      for (let i = 0; i < THRESHOLD + 1; i++)
        await assert.rejects(
          payment.charge({ ...one, attemptId: randomUUID() }),
          outcomeUnknown('server_error'),
        );
      assert.equal(seen() - before, THRESHOLD + 1, 'each call reached the gateway once');
      assert.equal(http.breakerState, 'CLOSED', 'one user alone');
      for (let i = 0; i < THRESHOLD - 1; i++)
        await assert.rejects(payment.charge(charge()), outcomeUnknown('server_error'));
      assert.equal(http.breakerState, 'OPEN', 'rate-limited for as many users as the threshold');
    } finally {
      await fault({ mode: 'none' });
    }
  });

  test('5xx: outcome unknown, one request each; one user alone never opens the breaker, many users do', async () => {
    const { payment, http } = gateway();
    await fault({ mode: 'error', status: 503 });
    try {
      const before = seen();
      const one = charge();
      for (let i = 0; i < THRESHOLD + 1; i++)
        await assert.rejects(
          payment.charge({ ...one, attemptId: randomUUID() }),
          outcomeUnknown('server_error'),
        );
      assert.equal(seen() - before, THRESHOLD + 1, 'no SDK retry under the breaker');
      assert.equal(http.breakerState, 'CLOSED', 'one user alone');
      // That user's failures counted once: as many users as the threshold open it.
      for (let i = 0; i < THRESHOLD - 1; i++)
        await assert.rejects(payment.charge(charge()), outcomeUnknown('server_error'));
      assert.equal(http.breakerState, 'OPEN');
      const refused = seen();
      await assert.rejects(payment.charge(charge()), (error: unknown) => {
        assert.ok(error instanceof DependencyUnavailableError);
        assert.equal(error.reason, 'circuit_open');
        assert.equal(error.outcomeUnknown, false, 'refused by the breaker: known not to have charged');
        return true;
      });
      assert.equal(seen(), refused, 'an open breaker keeps the call away');
    } finally {
      await fault({ mode: 'none' });
    }
  });

  test('a timeout after the PaymentIntent was made: outcome unknown, then found, and the retry is the same charge', async () => {
    const { payment } = gateway({ timeoutMs: 300 });
    const request = charge();
    const startedAt = new Date();
    await fault({ mode: 'charge-then-hang' });
    try {
      const before = seen();
      await assert.rejects(payment.charge(request), outcomeUnknown('timeout'));
      assert.equal(seen() - before, 1, 'no SDK retry after a timeout');
    } finally {
      await fault({ mode: 'none' });
    }
    const found = await payment.chargesFor({ id: request.attemptId, startedAt });
    assert.equal(found.length, 1);
    assert.equal(found[0]?.status, 'succeeded');
    assert.deepEqual(await payment.charge(request), { outcome: 'succeeded', chargeId: found[0]?.id });
  });

  test('a reset connection: outcome unknown, and the SDK does not send it again', async () => {
    const { payment } = gateway();
    await fault({ mode: 'reset' });
    try {
      const before = seen();
      await assert.rejects(payment.charge(charge()), outcomeUnknown('connection_lost'));
      assert.equal(seen() - before, 1);
    } finally {
      await fault({ mode: 'none' });
    }
  });

  test('reconcile reads every PaymentIntent and every refund, page by page', async () => {
    const { payment } = gateway();
    const made: string[] = [];
    for (let i = 0; i < 105; i++) {
      const answer = await payment.charge(charge({ amountCents: 100 + i }));
      if (answer.outcome === 'succeeded') made.push(answer.chargeId);
    }
    const refundedId = made[0] ?? '';
    await payment.refund(refundedId);
    const all = [];
    for await (const c of payment.allCharges()) all.push(c);
    const byId = new Map(all.map((c) => [c.id, c]));
    assert.equal(byId.size, all.length, 'no PaymentIntent twice');
    for (const id of made) assert.ok(byId.has(id), `${id} listed`);
    assert.equal(byId.get(refundedId)?.refunded, true);
    assert.equal(byId.get(made[1] ?? '')?.refunded, false);
    const total = await sandbox.db.query('SELECT count(*)::int AS n FROM payment_intents');
    assert.equal(all.length, total.rows[0]?.n);
  });
});
