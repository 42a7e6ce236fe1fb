import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../../platform/database/Database.ts';
import { AppError } from '../../platform/errors/AppError.ts';
import { DependencyUnavailableError } from '../../platform/errors/DependencyUnavailableError.ts';
import type { CartStore } from '../carts/CartStore.ts';
import { CheckoutErrors } from '../errors.ts';
import type { InventoryClient } from '../gateways/InventoryClient.ts';
import type { PaymentGateway } from '../gateways/PaymentGateway.ts';
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

interface Dependencies {
  db: Database;
  carts: CartStore;
  attempts: AttemptStore;
  inventory: InventoryClient;
  payment: PaymentGateway;
  reservationTtlSeconds: number;
}

/** Seconds a client should wait before retrying a checkout that another request is still working on. */
const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * The checkout flow of DESIGN section 5, in atomic phases: record the attempt, reserve stock, charge,
 * then create the order in one transaction. A known failure gives back what was taken (a declined card
 * releases the stock). An unknown one (a charge whose answer never came) is left, phase recorded, for
 * recovery to settle by looking it up; nothing is guessed.
 */
export class CheckoutService {
  readonly #deps: Dependencies;

  constructor(deps: Dependencies) {
    this.#deps = deps;
  }

  async complete(command: CheckoutCommand, log: Logger): Promise<CheckoutResult> {
    const begun = await this.#begin(command);
    if ('outcome' in begun) return { ...begun.outcome, replayed: true };
    const outcome = await this.#run(begun.attempt, command, log);
    return { ...outcome, replayed: false };
  }

  /** Phase 1: in one transaction, claim the key (or replay / refuse per section 4) and record the attempt. */
  async #begin(command: CheckoutCommand): Promise<{ attempt: Attempt } | { outcome: StoredOutcome }> {
    const { db, carts, attempts } = this.#deps;
    try {
      return await db.transaction(async (tx) => {
        if (command.key) {
          const state = await claimKey(tx, command.key);
          if (state.kind === 'mismatch') throw new AppError(CheckoutErrors.IDEMPOTENCY_KEY_MISMATCH);
          if (state.kind === 'replay') return { outcome: state.outcome };
          if (state.kind === 'in_flight') {
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

  async #run(attempt: Attempt, command: CheckoutCommand, log: Logger): Promise<StoredOutcome> {
    const { attempts, inventory, payment } = this.#deps;

    // Phase 2: reserve stock, idempotent by attempt id.
    let reservation: Awaited<ReturnType<InventoryClient['reserve']>>;
    try {
      reservation = await inventory.reserve(attempt.id, attempt.items, this.#deps.reservationTtlSeconds);
    } catch (error) {
      // A reserve that never reached the inventory holds nothing. One that may have is not retried
      // against a sick service in the user's time: recovery releases it (and reservations expire).
      if (neverSent(error)) await this.#unwind(attempt, UNAVAILABLE, log, { release: false });
      else log.warn({ attemptId: attempt.id, dependency: 'inventoryService' }, 'reservation_outcome_unknown');
      throw error;
    }
    if (!reservation.reserved) {
      await attempts.advance(attempt.id, 'failed', { errorCode: CheckoutErrors.INVENTORY_CONFLICT.code });
      throw new AppError(CheckoutErrors.INVENTORY_CONFLICT, {
        detail: `Not enough stock of ${reservation.sku}.`,
        extensions: { sku: reservation.sku },
      });
    }
    await attempts.advance(attempt.id, 'stock_reserved');

    // Phase 3: charge, with the attempt id as the gateway's idempotency key.
    await attempts.advance(attempt.id, 'payment_pending');
    let charge: Awaited<ReturnType<PaymentGateway['charge']>>;
    try {
      charge = await payment.charge({
        attemptId: attempt.id,
        amountCents: attempt.amountCents,
        currency: attempt.currency,
        paymentToken: command.paymentToken,
        metadata: { userId: attempt.userId, cartId: attempt.cartId },
      });
    } catch (error) {
      // Only a call that never reached the gateway is known not to have charged.
      if (neverSent(error)) await this.#unwind(attempt, UNAVAILABLE, log, { release: true });
      else log.warn({ attemptId: attempt.id, dependency: 'paymentGateway' }, 'charge_outcome_unknown');
      throw error;
    }
    if (charge.outcome === 'declined') {
      await this.#unwind(attempt, CheckoutErrors.PAYMENT_DECLINED.code, log, { release: true });
      throw new AppError(CheckoutErrors.PAYMENT_DECLINED, {
        extensions: { declineCode: charge.declineCode },
      });
    }
    if (charge.outcome === 'invalid_payment_method') {
      await this.#unwind(attempt, CheckoutErrors.PAYMENT_METHOD_INVALID.code, log, { release: true });
      throw new AppError(CheckoutErrors.PAYMENT_METHOD_INVALID);
    }
    await attempts.advance(attempt.id, 'charged', { chargeId: charge.chargeId });
    const charged = { ...attempt, chargeId: charge.chargeId };

    // Phase 4: order, cart and stored answer in one transaction; then the stock is sold.
    const orderId = randomUUID();
    const outcome: StoredOutcome = {
      status: 201,
      body: JSON.stringify({ orderId, transactionId: charge.chargeId, status: 'CONFIRMED' }),
    };
    await attempts.complete(charged, orderId, outcome, command.key);
    log.info(
      { attemptId: attempt.id, orderId, chargeId: charge.chargeId, amountCents: attempt.amountCents },
      'order_confirmed',
    );
    try {
      await inventory.commit(attempt.id);
      await attempts.markStockCommitted(attempt.id);
    } catch (error) {
      // The order stands; the reservation is committed later by recovery.
      log.warn(
        { attemptId: attempt.id, dependency: 'inventoryService', err: error },
        'stock_commit_deferred',
      );
    }
    return outcome;
  }

  /**
   * Gives the stock back (when some was taken) and marks the attempt failed, freeing the cart. If this
   * cannot be done now, the attempt keeps its phase so that recovery finishes the unwinding; the
   * caller's error stands either way.
   */
  async #unwind(
    attempt: Attempt,
    errorCode: string,
    log: Logger,
    options: { release: boolean },
  ): Promise<void> {
    try {
      if (options.release) await this.#deps.inventory.release(attempt.id);
      await this.#deps.attempts.advance(attempt.id, 'failed', { errorCode });
    } catch (error) {
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
}

const UNAVAILABLE = 'SERVICE_TEMPORARILY_UNAVAILABLE';

/** True when a dependency call certainly did not take effect (refused by its breaker or bulkhead, or never connected). */
function neverSent(error: unknown): boolean {
  return error instanceof DependencyUnavailableError && !error.outcomeUnknown;
}
