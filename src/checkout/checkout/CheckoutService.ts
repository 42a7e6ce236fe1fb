import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../../platform/database/Database.ts';
import { AppError } from '../../platform/errors/AppError.ts';
import { DependencyUnavailableError } from '../../platform/errors/DependencyUnavailableError.ts';
import { failpoint } from '../../platform/process/failpoint.ts';
import type { CartStore } from '../carts/CartStore.ts';
import { CheckoutErrors } from '../errors.ts';
import type { InventoryClient } from '../gateways/InventoryClient.ts';
import type { ChargeResult, PaymentGateway } from '../gateways/PaymentGateway.ts';
import {
  type Attempt,
  type AttemptStore,
  claimKey,
  type KeyScope,
  linkKey,
  type StoredOutcome,
} from './AttemptStore.ts';

export interface CheckoutCommand {
  userId: string;
  cartId: string;
  paymentToken: string;
  key: KeyScope | undefined;
}

export type CheckoutResult = StoredOutcome & { replayed: boolean };

/** How a recovery ended: the order exists (finished), or what was taken was given back (unwound), or not yet. */
export type RecoveryOutcome = 'finished' | 'unwound' | 'deferred';

interface Dependencies {
  db: Database;
  carts: CartStore;
  attempts: AttemptStore;
  inventory: InventoryClient;
  payment: PaymentGateway;
  reservationTtlSeconds: number;
  /** When to look again for a charge that may land after recovery found none. */
  lateChargeRecheckMs: number;
}

/** Seconds a client should wait before retrying a checkout that another request is still working on. */
const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/** The places a crash can fall between two recorded facts; tests stop the process at each (failpoints). */
export const CHECKOUT_FAILPOINTS = [
  'checkout.after_attempt_recorded',
  'checkout.after_reserve_call',
  'checkout.after_stock_reserved',
  'checkout.after_payment_pending',
  'checkout.after_charge_call',
  'checkout.after_charged',
  'checkout.after_order_committed',
  'checkout.after_stock_commit_call',
] as const;

/** A step the attempt could not take in the user's time; recovery takes it later. */
class Deferred extends Error {}

/**
 * The checkout flow of DESIGN section 5, in atomic phases: record the attempt, reserve stock, charge,
 * then create the order in one transaction. Every external call carries the attempt id as its
 * idempotency key, so any step may be taken again. A request drives an attempt forward; a retry with
 * the same Idempotency-Key resumes it from its last recorded phase; recovery finishes what was paid
 * for and unwinds the rest. An unknown outcome is never guessed: the gateway is asked.
 */
export class CheckoutService {
  readonly #deps: Dependencies;

  constructor(deps: Dependencies) {
    this.#deps = deps;
  }

  async complete(command: CheckoutCommand, log: Logger): Promise<CheckoutResult> {
    const begun = await this.#begin(command);
    if ('outcome' in begun) return { ...begun.outcome, replayed: true };
    failpoint('checkout.after_attempt_recorded');
    try {
      return { ...(await this.#forward(begun.attempt, command.paymentToken, log)), replayed: false };
    } catch (error) {
      // Another worker (a recovery, a retry) moved the attempt meanwhile: it is theirs to finish.
      if (error instanceof Deferred) {
        throw new AppError(CheckoutErrors.CHECKOUT_IN_PROGRESS, {
          retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS,
        });
      }
      throw error;
    }
  }

  /**
   * Settles an attempt whose worker is gone. Paid for: the order is made. Not paid for: the stock is
   * released and the attempt fails (the client's retry with its key starts afresh). Unknown: the
   * gateway is asked; if it cannot answer now, the attempt waits for the next round.
   */
  async recover(attempt: Attempt, log: Logger): Promise<RecoveryOutcome> {
    try {
      if (attempt.phase === 'completed')
        return (await this.#commitStock(attempt, log)) ? 'finished' : 'deferred';
      let charged = attempt;
      if (attempt.phase === 'payment_pending') {
        const charges = await this.#deps.payment.chargesFor(attempt.id);
        const paid = charges.find((c) => c.status === 'succeeded' && !c.refunded);
        if (paid) {
          await this.#record(attempt, 'payment_pending', 'charged', { chargeId: paid.id });
          charged = { ...attempt, phase: 'charged', chargeId: paid.id };
        }
      }
      if (charged.phase === 'charged') {
        await this.#finish(charged, log);
        return 'finished';
      }
      // No charge now; the call's outcome was unknown, so one may still land: look again later.
      const recheck = attempt.phase === 'payment_pending' ? this.#deps.lateChargeRecheckMs : undefined;
      await this.#unwind(attempt, 'ABANDONED', { release: true, recheckChargeAfterMs: recheck });
      return 'unwound';
    } catch (error) {
      if (error instanceof DependencyUnavailableError || error instanceof Deferred) return 'deferred';
      throw error;
    }
  }

  /**
   * The second look at an attempt that recovery unwound without finding a charge: a charge that landed
   * since belongs to no order, so it is refunded. Returns how many were.
   */
  async refundLateCharges(attempt: Attempt, log: Logger): Promise<number> {
    const late = (await this.#deps.payment.chargesFor(attempt.id)).filter(
      (c) => c.status === 'succeeded' && !c.refunded,
    );
    for (const charge of late) {
      await this.#deps.payment.refund(charge.id);
      log.warn(
        { attemptId: attempt.id, chargeId: charge.id, amountCents: charge.amount },
        'late_charge_refunded',
      );
    }
    await this.#deps.attempts.chargeRechecked(attempt.id);
    return late.length;
  }

  /** Phase 1: in one transaction, claim the key (or replay, refuse, resume per section 4) and record the attempt. */
  async #begin(command: CheckoutCommand): Promise<{ attempt: Attempt } | { outcome: StoredOutcome }> {
    const { db, carts, attempts } = this.#deps;
    try {
      return await db.transaction(async (tx) => {
        if (command.key) {
          const state = await claimKey(tx, command.key);
          if (state.kind === 'mismatch') throw new AppError(CheckoutErrors.IDEMPOTENCY_KEY_MISMATCH);
          if (state.kind === 'replay') return { outcome: state.outcome };
          if (state.kind === 'in_flight') {
            // The first request's worker died (its lease ran out): this retry takes over where it stopped.
            const abandoned = state.leaseExpired ? await attempts.takeOver(tx, state.attemptId) : undefined;
            if (abandoned) return { attempt: abandoned };
            throw new AppError(CheckoutErrors.IDEMPOTENCY_KEY_IN_USE, {
              retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS,
            });
          }
        }
        const cart = await carts.find(command.cartId, command.userId, tx);
        if (!cart) throw new AppError(CheckoutErrors.CART_NOT_FOUND);
        if (cart.status === 'checked_out') throw new AppError(CheckoutErrors.CART_ALREADY_CHECKED_OUT);
        if (cart.items.length === 0) throw new AppError(CheckoutErrors.CART_EMPTY);
        const attempt = await attempts.insert(tx, {
          id: randomUUID(),
          userId: command.userId,
          cartId: command.cartId,
          amountCents: cart.totalCents,
          currency: cart.currency,
          items: cart.items.map(({ sku, quantity }) => ({ sku, quantity })),
        });
        if (command.key) await linkKey(tx, command.key, attempt.id);
        return { attempt };
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

  /** Drives an attempt forward from its recorded phase to an order, or to a final refusal. */
  async #forward(attempt: Attempt, paymentToken: string, log: Logger): Promise<StoredOutcome> {
    let current = attempt;
    // Resumed after a charge call whose outcome is unknown: that call may still have charged.
    const chargedBefore = current.phase === 'payment_pending';
    if (current.phase === 'started') current = await this.#reserve(current, log);
    if (current.phase === 'stock_reserved') {
      await this.#record(current, 'stock_reserved', 'payment_pending');
      failpoint('checkout.after_payment_pending');
      current = { ...current, phase: 'payment_pending' };
    }
    if (current.phase === 'payment_pending')
      current = await this.#charge(current, paymentToken, log, chargedBefore);
    return this.#finish(current, log);
  }

  /** Phase 2: reserve stock, idempotent by attempt id. */
  async #reserve(attempt: Attempt, log: Logger): Promise<Attempt> {
    let reservation: Awaited<ReturnType<InventoryClient['reserve']>>;
    try {
      reservation = await this.#deps.inventory.reserve(
        attempt.id,
        attempt.items,
        this.#deps.reservationTtlSeconds,
      );
    } catch (error) {
      // A reserve that never reached the inventory holds nothing. One that may have is not retried
      // against a sick service in the user's time: recovery releases it (and reservations expire).
      if (neverSent(error)) {
        await this.#unwind(attempt, UNAVAILABLE, { release: false }).catch((e) =>
          this.#deferred(e, attempt, log),
        );
      } else
        log.warn({ attemptId: attempt.id, dependency: 'inventoryService' }, 'reservation_outcome_unknown');
      throw error;
    }
    failpoint('checkout.after_reserve_call');
    if (!reservation.reserved) {
      await this.#record(attempt, 'started', 'failed', { errorCode: CheckoutErrors.INVENTORY_CONFLICT.code });
      throw new AppError(CheckoutErrors.INVENTORY_CONFLICT, {
        detail: `Not enough stock of ${reservation.sku}.`,
        extensions: { sku: reservation.sku },
      });
    }
    await this.#record(attempt, 'started', 'stock_reserved');
    failpoint('checkout.after_stock_reserved');
    return { ...attempt, phase: 'stock_reserved' };
  }

  /** Phase 3: charge, with the attempt id as the gateway's idempotency key (a retried charge is the same charge). */
  async #charge(
    attempt: Attempt,
    paymentToken: string,
    log: Logger,
    chargedBefore: boolean,
  ): Promise<Attempt> {
    let charge: ChargeResult;
    try {
      charge = await this.#deps.payment.charge({
        attemptId: attempt.id,
        amountCents: attempt.amountCents,
        currency: attempt.currency,
        paymentToken,
        metadata: { userId: attempt.userId, cartId: attempt.cartId },
      });
    } catch (error) {
      // Only a call that never reached the gateway is known not to have charged, and only when no earlier
      // call for this attempt may have. Otherwise the attempt stays `payment_pending`: a retry charges with
      // the same key, recovery asks the gateway.
      if (neverSent(error) && !chargedBefore) {
        await this.#unwind(attempt, UNAVAILABLE, { release: true }).catch((e) =>
          this.#deferred(e, attempt, log),
        );
      } else log.warn({ attemptId: attempt.id, dependency: 'paymentGateway' }, 'charge_outcome_unknown');
      throw error;
    }
    failpoint('checkout.after_charge_call');
    if (charge.outcome === 'declined') {
      await this.#unwind(attempt, CheckoutErrors.PAYMENT_DECLINED.code, { release: true }).catch((e) =>
        this.#deferred(e, attempt, log),
      );
      throw new AppError(CheckoutErrors.PAYMENT_DECLINED, {
        extensions: { declineCode: charge.declineCode },
      });
    }
    if (charge.outcome === 'invalid_payment_method') {
      await this.#unwind(attempt, CheckoutErrors.PAYMENT_METHOD_INVALID.code, { release: true }).catch((e) =>
        this.#deferred(e, attempt, log),
      );
      throw new AppError(CheckoutErrors.PAYMENT_METHOD_INVALID);
    }
    await this.#record(attempt, 'payment_pending', 'charged', { chargeId: charge.chargeId });
    failpoint('checkout.after_charged');
    return { ...attempt, phase: 'charged', chargeId: charge.chargeId };
  }

  /** Phase 4: order, cart and stored answer in one transaction; then the reserved stock is sold. */
  async #finish(attempt: Attempt, log: Logger): Promise<StoredOutcome> {
    const orderId = randomUUID();
    const outcome: StoredOutcome = {
      status: 201,
      body: JSON.stringify({ orderId, transactionId: attempt.chargeId, status: 'CONFIRMED' }),
    };
    if (!(await this.#deps.attempts.complete(attempt, orderId, outcome)))
      throw new Deferred('attempt moved on');
    failpoint('checkout.after_order_committed');
    log.info(
      { attemptId: attempt.id, orderId, chargeId: attempt.chargeId, amountCents: attempt.amountCents },
      'order_confirmed',
    );
    await this.#commitStock(attempt, log);
    return outcome;
  }

  /** Sells the reserved stock; false when that must wait for recovery (the order stands either way). */
  async #commitStock(attempt: Attempt, log: Logger): Promise<boolean> {
    try {
      await this.#deps.inventory.commit(attempt.id);
      failpoint('checkout.after_stock_commit_call');
      await this.#deps.attempts.markStockCommitted(attempt.id);
      return true;
    } catch (error) {
      log.warn(
        { attemptId: attempt.id, dependency: 'inventoryService', reason: (error as Error).message },
        'stock_commit_deferred',
      );
      return false;
    }
  }

  /** Gives the stock back (when some may have been taken) and marks the attempt failed, freeing the cart. */
  async #unwind(
    attempt: Attempt,
    errorCode: string,
    options: { release: boolean; recheckChargeAfterMs?: number | undefined },
  ): Promise<void> {
    if (options.release) await this.#deps.inventory.release(attempt.id);
    const current = await this.#deps.db.query<{ phase: string }>(
      'SELECT phase FROM checkout_attempts WHERE id = $1',
      [attempt.id],
    );
    const phase = current.rows[0]?.phase;
    if (phase === 'started' || phase === 'stock_reserved' || phase === 'payment_pending') {
      const recheck = options.recheckChargeAfterMs;
      await this.#record(attempt, phase, 'failed', {
        errorCode,
        ...(recheck ? { recheckChargeAfterMs: recheck } : {}),
      });
    }
  }

  async #record(attempt: Attempt, from: Attempt['phase'], to: Attempt['phase'], fields = {}): Promise<void> {
    if (!(await this.#deps.attempts.advance(attempt.id, from, to, fields))) {
      throw new Deferred(`attempt ${attempt.id} was not ${from} any more`);
    }
  }

  #deferred(error: unknown, attempt: Attempt, log: Logger): void {
    log.warn(
      {
        attemptId: attempt.id,
        errorClass: (error as Error).constructor?.name,
        reason: (error as Error).message,
      },
      'unwind_deferred_to_recovery',
    );
  }
}

const UNAVAILABLE = 'SERVICE_TEMPORARILY_UNAVAILABLE';

/** True when a dependency call certainly did not take effect (refused by its breaker or bulkhead, or never connected). */
function neverSent(error: unknown): boolean {
  return error instanceof DependencyUnavailableError && !error.outcomeUnknown;
}
