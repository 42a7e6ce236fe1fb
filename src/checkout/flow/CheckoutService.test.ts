import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import pino from 'pino';
import { AppError } from '../../platform/errors/AppError.ts';
import {
  DependencyUnavailableError,
  type UnavailableReason,
} from '../../platform/errors/DependencyUnavailableError.ts';
import type { ReserveResult } from '../gateways/InventoryClient.ts';
import type { ChargeResult, GatewayCharge } from '../gateways/PaymentGateway.ts';
import type { Attempt, StartResult, StoredOutcome } from './AttemptStore.ts';
import { type CheckoutDependencies, CheckoutService } from './CheckoutService.ts';
import type { KeyState } from './IdempotencyKeyStore.ts';

// The flow against fakes of its collaborators: every outcome of reserve and charge, every state of a key,
// every branch of recovery. Each fake answers what the test sets and records what the flow asked of it.
const log = pino({ level: 'silent' });
const USER = 'usr_unit';

interface Script {
  refusal?: Extract<StartResult, { started: false }>['reason'];
  /** How many times the attempt's statement says the cart changed under it before it starts. */
  changedTimes?: number;
  key?: KeyState;
  takeOver?: Attempt;
  reserve?: ReserveResult | UnavailableReason;
  charge?: ChargeResult | UnavailableReason;
  charges?: GatewayCharge[] | UnavailableReason;
  /** What the order's statement answers: made, moved on (false), or a bug thrown. */
  completes?: boolean | Error;
  committed?: 'all' | 'none';
  startThrows?: unknown;
  /** The order another worker (a webhook, recovery) made for the attempt. */
  orderMade?: { orderId: string; chargeId: string };
  /** The attempt a webhook's notice names, when it is no longer open. */
  found?: Attempt;
  /** What a webhook's notice finds of an open attempt: it, and whether the notice took it over. */
  noticed?: { attempt: Attempt; claimed: boolean };
  /** A webhook told of the payment while the request held the attempt. */
  notifiedMeanwhile?: boolean;
  /** The fail statement finds the attempt moved on (completed by another worker). */
  failMovedOn?: boolean;
  /** The inventory cannot release (it is away). */
  releaseThrows?: boolean;
}

function attemptOf(overrides: Partial<Attempt> = {}): Attempt {
  return {
    id: randomUUID(),
    userId: USER,
    cartId: randomUUID(),
    phase: 'started',
    amountCents: 2800,
    currency: 'usd',
    items: [{ sku: 'sku_mug', quantity: 2 }],
    chargeId: null,
    stockCommitted: false,
    startedAt: new Date(),
    ...overrides,
  };
}

const unavailable = (reason: UnavailableReason) =>
  new DependencyUnavailableError('fake', reason, { retryAfterSeconds: 1 });

function fakes(script: Script) {
  const calls: string[] = [];
  const failed: { code: string; recheck: number | undefined; releasePending?: boolean }[] = [];
  const refunded: string[] = [];
  /** The scripted answer: an object to return, or the reason of a DependencyUnavailableError to throw. */
  const answer = <T extends object>(value: T | UnavailableReason | undefined, fallback: T): T => {
    if (typeof value === 'string') throw unavailable(value);
    return value ?? fallback;
  };
  const deps: CheckoutDependencies = {
    db: {
      query: async () => assert.fail('the flow reaches the database through its stores only'),
      transaction: async (work) =>
        work({ query: async () => assert.fail('no statement of its own') } as never),
    },
    attempts: {
      start: async (_tx, attempt) => {
        calls.push('start');
        if (script.startThrows) throw script.startThrows;
        if (script.refusal) return { started: false, reason: script.refusal };
        if ((script.changedTimes ?? 0) > 0) {
          script.changedTimes = (script.changedTimes ?? 0) - 1;
          return { started: false, reason: 'cart_changed' };
        }
        return { started: true, attempt: attemptOf({ id: attempt.id, cartId: attempt.cartId }) };
      },
      takeOver: async () => {
        calls.push('takeOver');
        return script.takeOver;
      },
      complete: async () => {
        calls.push('complete');
        if (script.completes instanceof Error) throw script.completes;
        return script.completes ?? true;
      },
      fail: async (_id, code, recheck, releasePending) => {
        calls.push('fail');
        if (script.failMovedOn) return false;
        failed.push({ code, recheck, ...(releasePending ? { releasePending } : {}) });
        return true;
      },
      chargeRechecked: async () => {
        calls.push('chargeRechecked');
      },
      find: async () => script.found,
      notice: async () => {
        calls.push('notice');
        return script.noticed;
      },
      answeredUnknown: async () => {
        calls.push('answeredUnknown');
        return !script.notifiedMeanwhile;
      },
      stockReleased: async () => {
        calls.push('stockReleased');
      },
      orderOf: async () => {
        calls.push('orderOf');
        return script.orderMade;
      },
    },
    keys: {
      claim: async () => {
        calls.push('claim');
        return script.key ?? { kind: 'new' };
      },
    },
    inventory: {
      reserve: async () => {
        calls.push('reserve');
        return answer(script.reserve, { outcome: 'reserved' } as ReserveResult);
      },
      release: async () => {
        calls.push('release');
        if (script.releaseThrows)
          throw new DependencyUnavailableError('inventory', 'unreachable', { retryAfterSeconds: 1 });
      },
    },
    payment: {
      charge: async () => {
        calls.push('charge');
        return answer(script.charge, { outcome: 'succeeded', chargeId: 'ch_1' } as ChargeResult);
      },
      chargesFor: async () => {
        calls.push('chargesFor');
        return answer(script.charges, [] as GatewayCharge[]);
      },
      refund: async (chargeId) => {
        calls.push('refund');
        refunded.push(chargeId);
      },
    },
    stock: {
      add: () => {
        calls.push('stock.add');
      },
      commitNow: async (ids) => {
        calls.push('stock.commitNow');
        return script.committed === 'none' ? [] : ids;
      },
    },
    reservationTtlSeconds: 900,
    lateChargeRecheckMs: 60_000,
    attemptLeaseMs: 30_000,
    requestBudgetMs: 14_000,
  };
  return { service: new CheckoutService(deps), calls, failed, refunded };
}

const command = (key?: { key: string }) => ({
  userId: USER,
  cartId: randomUUID(),
  paymentToken: 'pm_card_visa',
  key: key ? { userId: USER, key: key.key, requestHash: 'hash' } : undefined,
});

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, String(error));
  return error;
}

describe('CheckoutService.complete: a new attempt', () => {
  test('reserved and charged: the order is made, its stock queued to be sold, the answer 201', async () => {
    const { service, calls } = fakes({});
    const result = await service.complete(command(), log);
    assert.equal(result.status, 201);
    assert.equal(result.replayed, false);
    const body = JSON.parse(result.body) as { orderId: string; transactionId: string; status: string };
    assert.equal(body.transactionId, 'ch_1');
    assert.equal(body.status, 'CONFIRMED');
    assert.equal(result.order?.orderId, body.orderId);
    assert.deepEqual(calls, ['start', 'reserve', 'charge', 'complete', 'stock.add']);
  });

  test('a cart id that is not a UUID is not found, and nothing is recorded', async () => {
    const { service, calls } = fakes({});
    const error = await refusal(service.complete({ ...command(), cartId: 'not-a-uuid' }, log));
    assert.equal(error.code, 'CART_NOT_FOUND');
    assert.deepEqual(calls, []);
  });

  for (const [reason, code] of [
    ['cart_not_found', 'CART_NOT_FOUND'],
    ['cart_checked_out', 'CART_ALREADY_CHECKED_OUT'],
    ['cart_empty', 'CART_EMPTY'],
    ['cart_limit_exceeded', 'CART_LIMIT_EXCEEDED'],
  ] as const) {
    test(`a cart the attempt cannot start on (${reason}) is ${code}, and no call is made`, async () => {
      const { service, calls } = fakes({ refusal: reason });
      assert.equal((await refusal(service.complete(command(), log))).code, code);
      assert.deepEqual(calls, ['start']);
    });
  }

  test('a cart an add changed under the attempt is read again, and the checkout goes on', async () => {
    const { service, calls } = fakes({ changedTimes: 2 });
    assert.equal((await service.complete(command(), log)).status, 201);
    assert.deepEqual(calls.slice(0, 4), ['start', 'start', 'start', 'reserve']);
  });

  test('a cart that keeps changing under the attempt is CHECKOUT_IN_PROGRESS, retry after 1 s, nothing called', async () => {
    const { service, calls } = fakes({ changedTimes: 100 });
    const error = await refusal(service.complete(command(), log));
    assert.equal(error.code, 'CHECKOUT_IN_PROGRESS');
    assert.equal(error.retryAfterSeconds, 1);
    assert.deepEqual(calls, ['start', 'start', 'start', 'start']);
  });

  test('a second live attempt on the cart (the unique index) is CHECKOUT_IN_PROGRESS', async () => {
    const { service } = fakes({ startThrows: { constraint: 'checkout_attempts_one_live_per_cart' } });
    const error = await refusal(service.complete(command(), log));
    assert.equal(error.code, 'CHECKOUT_IN_PROGRESS');
    assert.equal(error.retryAfterSeconds, 1);
  });

  test('stock short: the attempt fails with nothing to release, INVENTORY_CONFLICT names the SKU', async () => {
    const { service, calls, failed } = fakes({ reserve: { outcome: 'insufficient', sku: 'sku_mug' } });
    const error = await refusal(service.complete(command(), log));
    assert.equal(error.code, 'INVENTORY_CONFLICT');
    assert.deepEqual(error.extensions, { sku: 'sku_mug' });
    assert.deepEqual(failed, [{ code: 'INVENTORY_CONFLICT', recheck: undefined }]);
    assert.ok(!calls.includes('release') && !calls.includes('charge'));
  });

  test('a reservation already settled by recovery: the attempt is abandoned, the client told to retry', async () => {
    const { service, calls, failed } = fakes({ reserve: { outcome: 'settled', status: 'released' } });
    assert.equal((await refusal(service.complete(command(), log))).code, 'CHECKOUT_IN_PROGRESS');
    assert.deepEqual(failed, [{ code: 'ABANDONED', recheck: 60_000 }]);
    assert.ok(!calls.includes('charge'));
  });

  for (const reason of ['circuit_open', 'saturated', 'unreachable'] as const) {
    test(`reserve never sent (${reason}): the attempt fails at once, nothing to release, 503 passed on`, async () => {
      const { service, calls, failed } = fakes({ reserve: reason });
      const error = await refusal(service.complete(command(), log));
      assert.ok(error instanceof DependencyUnavailableError && error.reason === reason);
      assert.deepEqual(failed, [{ code: 'SERVICE_TEMPORARILY_UNAVAILABLE', recheck: undefined }]);
      assert.ok(!calls.includes('release') && !calls.includes('charge'));
    });
  }

  for (const reason of ['timeout', 'server_error', 'connection_lost'] as const) {
    test(`reserve outcome unknown (${reason}): the attempt stays open for recovery, 503 passed on`, async () => {
      const { service, calls } = fakes({ reserve: reason });
      const error = await refusal(service.complete(command(), log));
      assert.ok(error instanceof DependencyUnavailableError && error.outcomeUnknown);
      assert.deepEqual(calls, ['start', 'reserve']);
    });
  }

  test('a declined card gives the stock back and fails the attempt: 402 with the decline code', async () => {
    const { service, calls, failed } = fakes({
      charge: { outcome: 'declined', declineCode: 'insufficient_funds' },
    });
    const error = await refusal(service.complete(command(), log));
    assert.equal(error.code, 'PAYMENT_DECLINED');
    assert.deepEqual(error.extensions, { declineCode: 'insufficient_funds' });
    assert.deepEqual(calls, ['start', 'reserve', 'charge', 'fail', 'release', 'stockReleased']);
    assert.deepEqual(failed, [{ code: 'PAYMENT_DECLINED', recheck: undefined, releasePending: true }]);
  });

  test('a payment token the gateway refuses gives the stock back: 400 PAYMENT_METHOD_INVALID', async () => {
    const { service, calls } = fakes({ charge: { outcome: 'invalid_payment_method' } });
    assert.equal((await refusal(service.complete(command(), log))).code, 'PAYMENT_METHOD_INVALID');
    assert.deepEqual(calls, ['start', 'reserve', 'charge', 'fail', 'release', 'stockReleased']);
  });

  test('a charge never sent gives the stock back and fails the attempt, with no second look for a charge', async () => {
    const { service, calls, failed } = fakes({ charge: 'circuit_open' });
    const error = await refusal(service.complete(command(), log));
    assert.ok(error instanceof DependencyUnavailableError);
    assert.deepEqual(calls, ['start', 'reserve', 'charge', 'fail', 'release', 'stockReleased']);
    assert.deepEqual(failed, [
      { code: 'SERVICE_TEMPORARILY_UNAVAILABLE', recheck: undefined, releasePending: true },
    ]);
  });

  test('a charge whose outcome is unknown is never guessed at: nothing released, nothing failed', async () => {
    const { service, calls } = fakes({ charge: 'timeout' });
    const error = await refusal(service.complete(command(), log));
    assert.ok(error instanceof DependencyUnavailableError && error.outcomeUnknown);
    assert.deepEqual(calls, ['start', 'reserve', 'charge', 'answeredUnknown']);
  });

  test('an answer lost, but a webhook told of the payment meanwhile: the gateway is asked, the order made', async () => {
    const attempt = attemptOf();
    const { service, calls } = fakes({
      charge: 'timeout',
      notifiedMeanwhile: true,
      charges: [{ id: 'pi_told', status: 'succeeded', refunded: false, amount: 2800, attemptId: attempt.id }],
    });
    const result = await service.complete(command(), log);
    assert.equal(result.status, 201);
    assert.equal(JSON.parse(result.body).transactionId, 'pi_told');
    assert.deepEqual(calls, [
      'start',
      'reserve',
      'charge',
      'answeredUnknown',
      'chargesFor',
      'complete',
      'stock.add',
    ]);
  });

  test('an answer lost, a webhook told of a failed payment: no charge at the gateway, the stock given back', async () => {
    const { service, calls, failed } = fakes({ charge: 'timeout', notifiedMeanwhile: true, charges: [] });
    const error = await refusal(service.complete(command(), log));
    assert.ok(error instanceof DependencyUnavailableError);
    assert.deepEqual(calls.slice(3), ['answeredUnknown', 'chargesFor', 'fail', 'release', 'stockReleased']);
    assert.deepEqual(failed, [{ code: 'ABANDONED', recheck: 60_000, releasePending: true }]);
  });

  test('an attempt another worker completed meanwhile is CHECKOUT_IN_PROGRESS, and no stock is queued', async () => {
    const { service, calls } = fakes({ completes: false });
    assert.equal((await refusal(service.complete(command(), log))).code, 'CHECKOUT_IN_PROGRESS');
    assert.ok(!calls.includes('stock.add'));
  });

  test('an order another worker made of this same charge is the answer; of another charge, it is not', async () => {
    const made = { orderId: randomUUID(), chargeId: 'ch_1' };
    const same = await fakes({ completes: false, orderMade: made }).service.complete(command(), log);
    assert.equal(same.status, 201);
    assert.equal(same.order?.orderId, made.orderId);
    const other = fakes({ completes: false, orderMade: { ...made, chargeId: 'ch_other' } });
    assert.equal((await refusal(other.service.complete(command(), log))).code, 'CHECKOUT_IN_PROGRESS');
  });
});

describe('CheckoutService.complete: with an Idempotency-Key', () => {
  const stored: StoredOutcome = { status: 402, body: '{"error":"PAYMENT_DECLINED"}' };

  test('a new key starts an attempt inside the claim', async () => {
    const { service, calls } = fakes({ key: { kind: 'new' } });
    assert.equal((await service.complete(command({ key: 'k' }), log)).status, 201);
    assert.deepEqual(calls.slice(0, 2), ['claim', 'start']);
  });

  test('a key with a stored answer replays it byte for byte and calls nothing', async () => {
    const { service, calls } = fakes({ key: { kind: 'replay', outcome: stored } });
    const result = await service.complete(command({ key: 'k' }), log);
    assert.deepEqual(result, { ...stored, replayed: true });
    assert.deepEqual(calls, ['claim']);
  });

  test('a key first used with another body is IDEMPOTENCY_KEY_MISMATCH', async () => {
    const { service, calls } = fakes({ key: { kind: 'mismatch' } });
    assert.equal(
      (await refusal(service.complete(command({ key: 'k' }), log))).code,
      'IDEMPOTENCY_KEY_MISMATCH',
    );
    assert.deepEqual(calls, ['claim']);
  });

  test('a key whose request is still in flight (its lease held) is IDEMPOTENCY_KEY_IN_USE, retry after 1 s', async () => {
    const { service, calls } = fakes({
      key: { kind: 'in_flight', attemptId: randomUUID(), leaseExpired: false, leaseLeftMs: 25_000 },
    });
    const error = await refusal(service.complete(command({ key: 'k' }), log));
    assert.equal(error.code, 'IDEMPOTENCY_KEY_IN_USE');
    assert.equal(error.retryAfterSeconds, 1);
    assert.deepEqual(calls, ['claim']);
  });

  test("past the first request's budget, a key in flight is retried when its lease runs out, not in 1 s", async () => {
    // 20 s into a 30 s lease, the first request (14 s at most) has answered or died: nothing moves for 10 s.
    const { service } = fakes({
      key: { kind: 'in_flight', attemptId: randomUUID(), leaseExpired: false, leaseLeftMs: 9_200 },
    });
    const error = await refusal(service.complete(command({ key: 'k' }), log));
    assert.equal(error.code, 'IDEMPOTENCY_KEY_IN_USE');
    assert.equal(error.retryAfterSeconds, 10);
  });

  test('a lease that ran out but another worker took over first is IDEMPOTENCY_KEY_IN_USE too', async () => {
    const { service, calls } = fakes({
      key: { kind: 'in_flight', attemptId: randomUUID(), leaseExpired: true, leaseLeftMs: 0 },
    });
    assert.equal(
      (await refusal(service.complete(command({ key: 'k' }), log))).code,
      'IDEMPOTENCY_KEY_IN_USE',
    );
    assert.deepEqual(calls, ['claim', 'takeOver']);
  });

  test('an abandoned attempt the gateway holds a charge for is finished with that charge, never charged again', async () => {
    const abandoned = attemptOf();
    const { service, calls } = fakes({
      key: { kind: 'in_flight', attemptId: abandoned.id, leaseExpired: true, leaseLeftMs: 0 },
      takeOver: abandoned,
      charges: [
        { id: 'ch_first', status: 'succeeded', refunded: false, amount: 2800, attemptId: abandoned.id },
      ],
    });
    const result = await service.complete(command({ key: 'k' }), log);
    assert.equal(JSON.parse(result.body).transactionId, 'ch_first');
    assert.deepEqual(calls, ['claim', 'takeOver', 'chargesFor', 'complete', 'stock.add']);
  });

  test('an abandoned attempt with no charge goes on under the same ids; a charge never sent then fails nothing', async () => {
    const abandoned = attemptOf();
    const { service, calls } = fakes({
      key: { kind: 'in_flight', attemptId: abandoned.id, leaseExpired: true, leaseLeftMs: 0 },
      takeOver: abandoned,
      charges: [
        { id: 'ch_refunded', status: 'succeeded', refunded: true, amount: 2800, attemptId: abandoned.id },
      ],
      charge: 'circuit_open',
    });
    await refusal(service.complete(command({ key: 'k' }), log));
    // The first worker's charge call may still land: the attempt stays open for recovery to look.
    assert.deepEqual(calls, ['claim', 'takeOver', 'chargesFor', 'reserve', 'charge', 'answeredUnknown']);
  });

  test('a key whose attempt failed starts a new one', async () => {
    const { service, calls } = fakes({ key: { kind: 'retry' } });
    assert.equal((await service.complete(command({ key: 'k' }), log)).status, 201);
    assert.deepEqual(calls.slice(0, 2), ['claim', 'start']);
  });
});

describe('CheckoutService.recover: an attempt whose worker is gone', () => {
  const paid = (attempt: Attempt, refunded = false): GatewayCharge[] => [
    { id: 'ch_paid', status: 'succeeded', refunded, amount: attempt.amountCents, attemptId: attempt.id },
  ];

  test('completed with its stock unsold: the stock is sold (finished), or waits (deferred)', async () => {
    const attempt = attemptOf({ phase: 'completed', chargeId: 'ch_x' });
    assert.equal(await fakes({}).service.recover(attempt, log), 'finished');
    assert.equal(await fakes({ committed: 'none' }).service.recover(attempt, log), 'deferred');
  });

  test('a charge recorded on the attempt (an earlier version): the order is made with it, no lookup', async () => {
    const { service, calls } = fakes({});
    assert.equal(
      await service.recover(attemptOf({ phase: 'charged', chargeId: 'ch_known' }), log),
      'finished',
    );
    assert.deepEqual(calls, ['complete', 'stock.commitNow']);
  });

  test('the gateway holds a charge: the order is made and the stock sold', async () => {
    const attempt = attemptOf();
    const { service, calls } = fakes({ charges: paid(attempt) });
    assert.equal(await service.recover(attempt, log), 'finished');
    assert.deepEqual(calls, ['chargesFor', 'complete', 'stock.commitNow']);
  });

  test('no charge (or only a refunded one): the stock is released and the attempt fails, with a second look', async () => {
    for (const charges of [[], paid(attemptOf(), true)]) {
      const { service, calls, failed } = fakes({ charges });
      assert.equal(await service.recover(attemptOf(), log), 'unwound');
      assert.deepEqual(calls, ['chargesFor', 'fail', 'release', 'stockReleased']);
      assert.deepEqual(failed, [{ code: 'ABANDONED', recheck: 60_000, releasePending: true }]);
    }
  });

  test("a payment of another amount under the attempt's id pays for nothing: the attempt is unwound", async () => {
    const attempt = attemptOf();
    const [charge] = paid(attempt);
    const { service, calls } = fakes({ charges: [{ ...(charge as GatewayCharge), amount: 1 }] });
    assert.equal(await service.recover(attempt, log), 'unwound');
    assert.deepEqual(calls, ['chargesFor', 'fail', 'release', 'stockReleased']);
  });

  test('a release that fails after the attempt failed stays owed, for recovery to retry', async () => {
    const { service, calls, failed } = fakes({ charges: [], releaseThrows: true });
    assert.equal(await service.recover(attemptOf(), log), 'deferred');
    assert.deepEqual(calls, ['chargesFor', 'fail', 'release'], 'not marked released');
    assert.equal(failed[0]?.releasePending, true);
  });

  test('an attempt completed by another worker while it was being unwound keeps its stock', async () => {
    const { service, calls } = fakes({ charges: [], failMovedOn: true });
    assert.equal(await service.recover(attemptOf(), log), 'deferred');
    assert.deepEqual(calls, ['chargesFor', 'fail'], 'no release of a paid order');
  });

  test('the gateway cannot answer: deferred to the next round, nothing changed', async () => {
    const { service, calls } = fakes({ charges: 'timeout' });
    assert.equal(await service.recover(attemptOf(), log), 'deferred');
    assert.deepEqual(calls, ['chargesFor']);
  });

  test('another worker completed it meanwhile: deferred', async () => {
    const attempt = attemptOf();
    assert.equal(
      await fakes({ charges: paid(attempt), completes: false }).service.recover(attempt, log),
      'deferred',
    );
  });

  test('a bug is not swallowed as deferred: it is thrown for the worker to log', async () => {
    const attempt = attemptOf();
    const { service } = fakes({ charges: paid(attempt), completes: new TypeError('boom') });
    await assert.rejects(service.recover(attempt, log), TypeError);
  });
});

describe("CheckoutService.settleNotified: the provider's webhook tells of a payment", () => {
  test('an open attempt a worker holds is only marked: that worker settles it', async () => {
    const { service, calls } = fakes({ noticed: { attempt: attemptOf(), claimed: false } });
    assert.equal(await service.settleNotified(randomUUID(), true, log), 'unchanged');
    assert.deepEqual(calls, ['notice']);
  });

  test('an open attempt no worker holds is taken over and settled by asking the gateway, never the notice', async () => {
    const attempt = attemptOf();
    const paid = fakes({
      noticed: { attempt, claimed: true },
      charges: [{ id: 'pi_real', status: 'succeeded', refunded: false, amount: 2800, attemptId: attempt.id }],
    });
    assert.equal(await paid.service.settleNotified(attempt.id, true, log), 'settled');
    assert.deepEqual(paid.calls, ['notice', 'chargesFor', 'complete', 'stock.commitNow']);
    // A "succeeded" the gateway does not confirm (another amount, or none at all) pays for nothing.
    const unconfirmed = fakes({
      noticed: { attempt, claimed: true },
      charges: [{ id: 'pi_other', status: 'succeeded', refunded: false, amount: 1, attemptId: attempt.id }],
    });
    assert.equal(await unconfirmed.service.settleNotified(attempt.id, true, log), 'settled');
    assert.deepEqual(unconfirmed.calls, ['notice', 'chargesFor', 'fail', 'release', 'stockReleased']);
  });

  test('the gateway cannot answer: deferred, for the notice to come again', async () => {
    const { service } = fakes({ noticed: { attempt: attemptOf(), claimed: true }, charges: 'timeout' });
    assert.equal(await service.settleNotified(randomUUID(), false, log), 'deferred');
  });

  test('an attempt not of this service is unknown; a completed one is unchanged', async () => {
    assert.equal(await fakes({}).service.settleNotified(randomUUID(), true, log), 'unknown_attempt');
    const completed = fakes({ found: attemptOf({ phase: 'completed', chargeId: 'pi_1' }) });
    assert.equal(await completed.service.settleNotified(randomUUID(), true, log), 'unchanged');
    assert.deepEqual(completed.calls, ['notice']);
  });

  test('paid, on a failed attempt: a late charge, refunded now; a failure on a failed attempt changes nothing', async () => {
    const attempt = attemptOf({ phase: 'failed' });
    const late = fakes({
      found: attempt,
      charges: [{ id: 'pi_late', status: 'succeeded', refunded: false, amount: 2800, attemptId: attempt.id }],
    });
    assert.equal(await late.service.settleNotified(attempt.id, true, log), 'settled');
    assert.deepEqual(late.refunded, ['pi_late']);
    const failed = fakes({ found: attempt });
    assert.equal(await failed.service.settleNotified(attempt.id, false, log), 'unchanged');
    assert.deepEqual(failed.calls, ['notice']);
  });
});

describe('CheckoutService.refundLateCharges', () => {
  test('refunds each succeeded, unrefunded charge of the attempt, then clears the second look', async () => {
    const attempt = attemptOf({ phase: 'failed' });
    const { service, calls, refunded } = fakes({
      charges: [
        { id: 'ch_late', status: 'succeeded', refunded: false, amount: 2800, attemptId: attempt.id },
        { id: 'ch_done', status: 'succeeded', refunded: true, amount: 2800, attemptId: attempt.id },
        { id: 'ch_failed', status: 'failed', refunded: false, amount: 2800, attemptId: attempt.id },
      ],
    });
    assert.equal(await service.refundLateCharges(attempt, log), 1);
    assert.deepEqual(refunded, ['ch_late']);
    assert.equal(calls.at(-1), 'chargeRechecked');
  });
});
