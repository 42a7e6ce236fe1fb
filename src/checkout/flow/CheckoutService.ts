import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { logEvent } from '../../contract/logEvents.ts';
import { Dependencies } from '../../contract/services.ts';
import type { Database, Queryable } from '../../platform/database/Database.ts';
import { AppError } from '../../platform/errors/AppError.ts';
import { DependencyUnavailableError } from '../../platform/errors/DependencyUnavailableError.ts';
import { failpoint } from '../../platform/process/failpoint.ts';
import { inSpan } from '../../platform/tracing/inSpan.ts';
import { CheckoutErrors } from '../errors.ts';
import type { InventoryClient } from '../gateways/InventoryClient.ts';
import type { ChargeResult, PaymentGateway } from '../gateways/PaymentGateway.ts';
import { isUuid } from '../ids.ts';
import type { Attempt, AttemptStore, StoredOutcome } from './AttemptStore.ts';
import type { IdempotencyKeyStore, KeyScope } from './IdempotencyKeyStore.ts';
import type { StockCommitter } from './StockCommitter.ts';

export interface CheckoutCommand {
  userId: string;
  cartId: string;
  paymentToken: string;
  key: KeyScope | undefined;
}

/** An order this call made: what its request line tells (one line per checkout, not two). */
export interface ConfirmedOrder {
  attemptId: string;
  orderId: string;
  chargeId: string;
  amountCents: number;
}

export type CheckoutResult = StoredOutcome & { replayed: boolean; order?: ConfirmedOrder };

/** How a recovery ended: the order exists (finished), or what was taken was given back (unwound), or not yet. */
export const RECOVERY_OUTCOMES = ['finished', 'unwound', 'deferred'] as const;
export type RecoveryOutcome = (typeof RECOVERY_OUTCOMES)[number];

/**
 * What a notice of the provider did: moved the attempt on (settled), found it where the notice says
 * (unchanged), could not act now (deferred: the notice must come again), or names no attempt of ours.
 */
export type NoticeOutcome = 'settled' | 'unchanged' | 'deferred' | 'unknown_attempt';

/** What the flow uses of each collaborator (so a test can hand it fakes of just that). */
export interface CheckoutDependencies {
  db: Pick<Database, 'query' | 'transaction'>;
  attempts: Pick<
    AttemptStore,
    | 'start'
    | 'takeOver'
    | 'complete'
    | 'fail'
    | 'chargeRechecked'
    | 'find'
    | 'orderOf'
    | 'notice'
    | 'answeredUnknown'
    | 'stockReleased'
  >;
  keys: Pick<IdempotencyKeyStore, 'claim'>;
  inventory: Pick<InventoryClient, 'reserve' | 'release'>;
  payment: Pick<PaymentGateway, 'charge' | 'chargesFor' | 'refund'>;
  /** Sells the reserved stock of confirmed orders after their answer, in batches. */
  stock: Pick<StockCommitter, 'add' | 'commitNow'>;
  reservationTtlSeconds: number;
  /** When to look again for a charge that may land after an attempt was failed without one. */
  lateChargeRecheckMs: number;
  /** An attempt's lease (CHECKOUT_ATTEMPT_LEASE_MS), and the longest a request works on its attempt. */
  attemptLeaseMs: number;
  requestBudgetMs: number;
}

/** Seconds a client should wait before retrying a checkout that another request is still working on. */
const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/** The places a crash can fall before the answer; tests stop the process at each (failpoints). */
export const CHECKOUT_FAILPOINTS = [
  'checkout.after_attempt_recorded',
  'checkout.after_reserve_call',
  'checkout.after_charge_call',
  'checkout.after_order_committed',
] as const;

const START_REFUSALS = {
  cart_not_found: CheckoutErrors.CART_NOT_FOUND,
  cart_checked_out: CheckoutErrors.CART_ALREADY_CHECKED_OUT,
  cart_changed: CheckoutErrors.CHECKOUT_IN_PROGRESS,
  cart_empty: CheckoutErrors.CART_EMPTY,
  cart_limit_exceeded: CheckoutErrors.CART_LIMIT_EXCEEDED,
} as const;

/** How many more times the attempt's statement reads a cart that changed under it before the client is told to retry. */
const START_ATTEMPTS = 3;

const startRefusalOptions = (reason: keyof typeof START_REFUSALS) =>
  reason === 'cart_changed' ? { retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS } : {};

interface Finished {
  outcome: StoredOutcome;
  order: ConfirmedOrder;
}

/** Another worker (recovery, or a retry with the key) moved the attempt on: it is theirs to finish. */
class AttemptMovedOn extends Error {}

/** The span attribute that names the attempt a step of the checkout belongs to. */
const ATTEMPT_ID = 'checkout.attempt.id';

/**
 * The checkout flow of docs/architecture.md section 5: record the attempt, reserve stock, charge, then create the
 * order in one statement. The attempt id is the idempotency key of the reservation and of the charge,
 * so any step may be taken again, and what happened between two writes is asked of the dependency
 * instead of written down: two commits per checkout on the request's path, where every phase used to
 * be one. A retry with the same Idempotency-Key resumes an abandoned attempt; recovery finishes what
 * was paid for and unwinds the rest. An unknown outcome is never guessed: the gateway is asked.
 */
export class CheckoutService {
  readonly #deps: CheckoutDependencies;

  constructor(deps: CheckoutDependencies) {
    this.#deps = deps;
  }

  async complete(command: CheckoutCommand, log: Logger): Promise<CheckoutResult> {
    const begun = await inSpan('checkout.attempt', {}, async (span) => {
      const begun = await this.#begin(command);
      if ('attempt' in begun)
        span.setAttribute(ATTEMPT_ID, begun.attempt.id).setAttribute('checkout.resumed', begun.resumed);
      else span.setAttribute('checkout.replayed', true);
      return begun;
    });
    if ('outcome' in begun) return { ...begun.outcome, replayed: true };
    failpoint('checkout.after_attempt_recorded');
    try {
      const finished = begun.resumed
        ? await this.#resume(begun.attempt, command.paymentToken, log)
        : await this.#reserveChargeAndOrder(begun.attempt, command.paymentToken, log, false);
      return { ...finished.outcome, replayed: false, order: finished.order };
    } catch (error) {
      // Another worker (a recovery, a retry) moved the attempt meanwhile: it is theirs to finish.
      if (error instanceof AttemptMovedOn) {
        throw new AppError(CheckoutErrors.CHECKOUT_IN_PROGRESS, {
          retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS,
        });
      }
      throw error;
    }
  }

  /**
   * When a retry of a key in flight may get another answer. While the first request may still work on
   * its attempt (within its budget), in a second: its answer is then replayed. Past that, the request has
   * answered (a 503 when a dependency failed) or died, and nothing moves until the lease runs out and a
   * retry takes the attempt over: a client told "1 s" would spend a minute's rate limit on 409s.
   */
  #inFlightRetryAfter(leaseLeftMs: number): number {
    const { attemptLeaseMs, requestBudgetMs } = this.#deps;
    const workedMs = attemptLeaseMs - leaseLeftMs;
    if (workedMs < requestBudgetMs) return IN_FLIGHT_RETRY_AFTER_SECONDS;
    return Math.max(IN_FLIGHT_RETRY_AFTER_SECONDS, Math.ceil(leaseLeftMs / 1000));
  }

  /**
   * Settles an attempt whose worker is gone. Paid for (the gateway holds a charge under its id): the
   * order is made. Not paid for: the stock is released and the attempt fails, with a second look for a
   * charge that lands late. If the gateway cannot answer now, the attempt waits for the next round.
   */
  async recover(attempt: Attempt, log: Logger): Promise<RecoveryOutcome> {
    try {
      if (attempt.phase === 'completed') return (await this.#commitStock(attempt)) ? 'finished' : 'deferred';
      const chargeId = attempt.chargeId ?? (await this.#paidCharge(attempt));
      if (chargeId) {
        const { order } = await this.#finish(attempt, chargeId);
        logEvent(log, 'info', 'order_confirmed', order);
        await this.#commitStock(attempt);
        return 'finished';
      }
      await this.#unwind(attempt, 'ABANDONED', { release: true, mayBeCharged: true });
      return 'unwound';
    } catch (error) {
      if (error instanceof DependencyUnavailableError || error instanceof AttemptMovedOn) return 'deferred';
      throw error;
    }
  }

  /**
   * The second look at an attempt failed while a charge call's outcome was unknown: a charge that
   * landed since belongs to no order, so it is refunded. Returns how many were.
   */
  async refundLateCharges(attempt: Attempt, log: Logger): Promise<number> {
    const late = (await this.#deps.payment.chargesFor(attempt)).filter(
      (c) => c.status === 'succeeded' && !c.refunded,
    );
    for (const charge of late) {
      await this.#deps.payment.refund(charge.id);
      logEvent(log, 'warn', 'late_charge_refunded', {
        attemptId: attempt.id,
        chargeId: charge.id,
        amountCents: charge.amount,
      });
    }
    await this.#deps.attempts.chargeRechecked(attempt.id);
    return late.length;
  }

  /**
   * Acts on the provider's signed notice (a webhook) that an attempt's payment succeeded (`paid`) or
   * failed, rather than at recovery's next round. An open attempt no worker holds (its lease ran out, or
   * its request answered without an outcome) is taken over and settled as recovery settles it: the
   * gateway is asked, never the notice believed. One a worker still holds is marked, for that worker to
   * settle when its own answer is lost. A failed attempt that was paid holds a late charge: it is
   * refunded now. Events out of order are fine: each only has the gateway asked again.
   */
  async settleNotified(attemptId: string, paid: boolean, log: Logger): Promise<NoticeOutcome> {
    const noticed = await this.#deps.attempts.notice(attemptId);
    if (noticed) {
      if (!noticed.claimed) return 'unchanged';
      const outcome = await this.recover(noticed.attempt, log);
      return outcome === 'deferred' ? 'deferred' : 'settled';
    }
    const attempt = await this.#deps.attempts.find(attemptId);
    if (!attempt) return 'unknown_attempt';
    if (attempt.phase === 'failed' && paid)
      return (await this.refundLateCharges(attempt, log)) > 0 ? 'settled' : 'unchanged';
    return 'unchanged';
  }

  /** Phase 1: claim the key (or replay, refuse, resume per section 4) and record the attempt, atomically. */
  async #begin(
    command: CheckoutCommand,
  ): Promise<{ attempt: Attempt; resumed: boolean } | { outcome: StoredOutcome }> {
    const { db, attempts, keys } = this.#deps;
    const start = async (tx: Queryable) => {
      if (!isUuid(command.cartId)) throw new AppError(CheckoutErrors.CART_NOT_FOUND);
      const attempt = { id: randomUUID(), userId: command.userId, cartId: command.cartId };
      let started = await attempts.start(tx, { ...attempt, keyName: command.key?.key ?? null });
      // An add to the cart landed while the statement waited for its lock: read the cart again, once
      // per add that slips in, a few times at most (an add takes the lock for a moment only).
      for (
        let again = 0;
        !started.started && started.reason === 'cart_changed' && again < START_ATTEMPTS;
        again++
      ) {
        started = await attempts.start(tx, { ...attempt, keyName: command.key?.key ?? null });
      }
      if (!started.started)
        throw new AppError(START_REFUSALS[started.reason], startRefusalOptions(started.reason));
      return { attempt: started.attempt, resumed: false };
    };
    try {
      // Without a key the attempt is one statement; with one, the key's claim joins it in a transaction.
      const key = command.key;
      if (!key) return await start(db);
      return await db.transaction(async (tx) => {
        const state = await keys.claim(tx, key);
        if (state.kind === 'mismatch') throw new AppError(CheckoutErrors.IDEMPOTENCY_KEY_MISMATCH);
        if (state.kind === 'replay') return { outcome: state.outcome };
        if (state.kind === 'in_flight') {
          // The first request's worker died (its lease ran out): this retry takes over where it stopped.
          const abandoned = state.leaseExpired ? await attempts.takeOver(tx, state.attemptId) : undefined;
          if (abandoned) return { attempt: abandoned, resumed: true };
          throw new AppError(CheckoutErrors.IDEMPOTENCY_KEY_IN_USE, {
            retryAfterSeconds: this.#inFlightRetryAfter(state.leaseLeftMs),
          });
        }
        return start(tx);
      });
    } catch (error) {
      // The partial unique index allows one attempt per cart that has not failed.
      if ((error as { constraint?: string }).constraint === 'checkout_attempts_one_live_per_cart') {
        throw new AppError(CheckoutErrors.CHECKOUT_IN_PROGRESS, {
          retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS,
        });
      }
      throw error;
    }
  }

  /**
   * A retry taking over an abandoned attempt: its first worker may have charged, so the gateway is asked
   * first. Paid: the order is made. Not paid: the attempt goes on, with the same ids, so a charge of the
   * first worker that lands late is the same charge as this one.
   */
  async #resume(attempt: Attempt, paymentToken: string, log: Logger): Promise<Finished> {
    const chargeId = attempt.chargeId ?? (await this.#paidCharge(attempt));
    if (!chargeId) return this.#reserveChargeAndOrder(attempt, paymentToken, log, true);
    const finished = await this.#finish(attempt, chargeId);
    this.#deps.stock.add(attempt.id);
    return finished;
  }

  /** Reserves, charges, and makes the order. `mayBeCharged`: an earlier worker's charge call may have gone out. */
  async #reserveChargeAndOrder(
    attempt: Attempt,
    paymentToken: string,
    log: Logger,
    mayBeCharged: boolean,
  ): Promise<Finished> {
    const step = { [ATTEMPT_ID]: attempt.id };
    await inSpan('checkout.reserve', step, () => this.#reserve(attempt, log, mayBeCharged));
    const chargeId = await inSpan('checkout.charge', step, () =>
      this.#charge(attempt, paymentToken, log, mayBeCharged),
    );
    const finished = await this.#finish(attempt, chargeId);
    this.#deps.stock.add(attempt.id);
    return finished;
  }

  /** Phase 2: reserve stock, idempotent by attempt id. */
  async #reserve(attempt: Attempt, log: Logger, mayBeCharged: boolean): Promise<void> {
    let reservation: Awaited<ReturnType<InventoryClient['reserve']>>;
    try {
      reservation = await this.#deps.inventory.reserve(
        attempt.id,
        attempt.items,
        this.#deps.reservationTtlSeconds,
        attempt.userId,
      );
    } catch (error) {
      // A reserve that never reached the inventory holds nothing. One that may have is not retried
      // against a sick service in the user's time: recovery releases it (and reservations expire).
      if (neverSent(error) && !mayBeCharged) {
        await this.#unwind(attempt, UNAVAILABLE, { release: false, mayBeCharged }).catch((e) =>
          this.#logUnwindDeferred(e, attempt, log),
        );
      } else
        logEvent(log, 'warn', 'reservation_outcome_unknown', {
          attemptId: attempt.id,
          dependency: Dependencies.inventory,
        });
      throw error;
    }
    failpoint('checkout.after_reserve_call');
    if (reservation.outcome === 'settled') {
      // The attempt outlived its lease and recovery settled it (released its stock): it is not this
      // request's any more. The stock is not short; the client's retry with its key starts afresh.
      // (An expired one, on a resumed attempt, cannot hold stock again either: the attempt fails.)
      logEvent(log, 'warn', 'attempt_settled_meanwhile', {
        attemptId: attempt.id,
        reservation: reservation.status,
      });
      await this.#unwind(attempt, 'ABANDONED', { release: false, mayBeCharged: true }).catch((e) =>
        this.#logUnwindDeferred(e, attempt, log),
      );
      throw new AttemptMovedOn(`reservation of attempt ${attempt.id} is ${reservation.status}`);
    }
    if (reservation.outcome === 'insufficient') {
      await this.#unwind(attempt, CheckoutErrors.INVENTORY_CONFLICT.code, { release: false, mayBeCharged });
      throw new AppError(CheckoutErrors.INVENTORY_CONFLICT, {
        detail: `Not enough stock of ${reservation.sku}.`,
        extensions: { sku: reservation.sku },
      });
    }
  }

  /** Phase 3: charge, with the attempt id as the gateway's idempotency key (a retried charge is the same charge). */
  async #charge(attempt: Attempt, paymentToken: string, log: Logger, mayBeCharged: boolean): Promise<string> {
    let charge: ChargeResult;
    try {
      charge = await this.#deps.payment.charge({
        attemptId: attempt.id,
        amountCents: attempt.amountCents,
        currency: attempt.currency,
        paymentToken,
        userId: attempt.userId,
        metadata: { cartId: attempt.cartId },
      });
    } catch (error) {
      // Only a call that never reached the gateway is known not to have charged, and only when no earlier
      // call for this attempt may have. Otherwise the attempt stays open: a retry charges with the same
      // key, recovery asks the gateway.
      if (neverSent(error) && !mayBeCharged) {
        await this.#unwind(attempt, UNAVAILABLE, { release: true, mayBeCharged }).catch((e) =>
          this.#logUnwindDeferred(e, attempt, log),
        );
        throw error;
      }
      // The answer was lost. The attempt is given up, for the provider's webhook (or recovery) to settle,
      // unless a webhook told of its payment meanwhile: then the gateway is asked here and now.
      if (await this.#deps.attempts.answeredUnknown(attempt.id).catch(() => true)) {
        logEvent(log, 'warn', 'charge_outcome_unknown', {
          attemptId: attempt.id,
          dependency: Dependencies.payment,
        });
        throw error;
      }
      const paid = await this.#paidCharge(attempt).then(
        (chargeId) => ({ chargeId }),
        () => undefined,
      );
      if (paid?.chargeId) return paid.chargeId;
      // Not paid, by the gateway's own list: given back now, with a second look for a late charge.
      if (paid)
        await this.#unwind(attempt, 'ABANDONED', { release: true, mayBeCharged: true }).catch((e) =>
          this.#logUnwindDeferred(e, attempt, log),
        );
      throw error;
    }
    failpoint('checkout.after_charge_call');
    if (charge.outcome === 'declined') {
      await this.#unwind(attempt, CheckoutErrors.PAYMENT_DECLINED.code, {
        release: true,
        mayBeCharged,
      }).catch((e) => this.#logUnwindDeferred(e, attempt, log));
      throw new AppError(CheckoutErrors.PAYMENT_DECLINED, {
        extensions: { declineCode: charge.declineCode },
      });
    }
    if (charge.outcome === 'invalid_payment_method') {
      await this.#unwind(attempt, CheckoutErrors.PAYMENT_METHOD_INVALID.code, {
        release: true,
        mayBeCharged,
      }).catch((e) => this.#logUnwindDeferred(e, attempt, log));
      throw new AppError(CheckoutErrors.PAYMENT_METHOD_INVALID);
    }
    return charge.chargeId;
  }

  /**
   * Phase 4: order, cart, attempt and stored answer in one statement. When another worker (a webhook,
   * recovery) made the order of this same charge first, that order is the answer.
   */
  async #finish(attempt: Attempt, chargeId: string): Promise<Finished> {
    return inSpan('checkout.order', { [ATTEMPT_ID]: attempt.id }, () => this.#order(attempt, chargeId));
  }

  async #order(attempt: Attempt, chargeId: string): Promise<Finished> {
    const orderId = randomUUID();
    const finished = confirmed(attempt, orderId, chargeId);
    if (await this.#deps.attempts.complete(attempt, chargeId, orderId, finished.outcome)) {
      failpoint('checkout.after_order_committed');
      return finished;
    }
    const made = await this.#deps.attempts.orderOf(attempt.id);
    if (made?.chargeId === chargeId) return confirmed(attempt, made.orderId, chargeId);
    throw new AttemptMovedOn('attempt moved on');
  }

  /**
   * The gateway's succeeded, unrefunded charge of this attempt's amount, if it holds one. A payment of
   * another amount under its id (made by hand at the provider) pays for nothing: it is refunded as a
   * late charge once the attempt is unwound.
   */
  async #paidCharge(attempt: Attempt): Promise<string | undefined> {
    const charges = await this.#deps.payment.chargesFor(attempt);
    return charges.find((c) => c.status === 'succeeded' && !c.refunded && c.amount === attempt.amountCents)
      ?.id;
  }

  /** Sells the reserved stock of one attempt; false when that must wait (the order stands either way). */
  async #commitStock(attempt: Attempt): Promise<boolean> {
    return (await this.#deps.stock.commitNow([attempt.id])).includes(attempt.id);
  }

  /**
   * Fails the attempt, freeing the cart, then gives the stock back (when some may have been taken). In
   * that order: once a release may have reached the inventory the attempt can no longer be completed,
   * so a charge that lands after it is a late one, refunded, never an order whose stock was given back.
   * A release that fails stays owed, and recovery retries it. When a charge call for the attempt
   * may have gone out unanswered, recovery looks again later for a late charge.
   */
  async #unwind(
    attempt: Attempt,
    errorCode: string,
    options: { release: boolean; mayBeCharged: boolean },
  ): Promise<void> {
    const recheck = options.mayBeCharged ? this.#deps.lateChargeRecheckMs : undefined;
    if (!(await this.#deps.attempts.fail(attempt.id, errorCode, recheck, options.release)))
      throw new AttemptMovedOn(`attempt ${attempt.id} moved on before it was unwound`);
    if (options.release) await this.releaseStock(attempt);
  }

  /** Gives a failed attempt's stock back; one that fails is retried by recovery (`claimUnreleasedStock`). */
  async releaseStock(attempt: Attempt): Promise<void> {
    await this.#deps.inventory.release(attempt.id);
    await this.#deps.attempts.stockReleased(attempt.id);
  }

  #logUnwindDeferred(error: unknown, attempt: Attempt, log: Logger): void {
    logEvent(log, 'warn', 'unwind_deferred_to_recovery', {
      attemptId: attempt.id,
      errorClass: (error as Error).constructor?.name,
      reason: (error as Error).message,
    });
  }
}

const UNAVAILABLE = 'SERVICE_TEMPORARILY_UNAVAILABLE';

/** The answer of a confirmed order: what the client gets, and what its key replays. */
function confirmed(attempt: Attempt, orderId: string, chargeId: string): Finished {
  return {
    outcome: {
      status: 201,
      body: JSON.stringify({ orderId, transactionId: chargeId, status: 'CONFIRMED' }),
    },
    order: { attemptId: attempt.id, orderId, chargeId, amountCents: attempt.amountCents },
  };
}

/** True when a dependency call certainly did not take effect (refused by its breaker or bulkhead, or never connected). */
function neverSent(error: unknown): boolean {
  return error instanceof DependencyUnavailableError && !error.outcomeUnknown;
}
