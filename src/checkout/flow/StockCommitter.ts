import type { Logger } from 'pino';
import { logEvent } from '../../contract/logEvents.ts';
import { Dependencies } from '../../contract/services.ts';
import { failpoint } from '../../platform/process/failpoint.ts';
import { runInTrace, startTrace } from '../../platform/tracing/traceContext.ts';
import type { InventoryClient } from '../gateways/InventoryClient.ts';
import type { AttemptStore } from './AttemptStore.ts';

/** A batch leaves when it holds this many reservations, or this long after its first one. */
const MAX_BATCH = 100;
const MAX_WAIT_MS = 25;

/**
 * Sells the reserved stock of confirmed orders after their answer, a batch at a time: one call to the
 * inventory and one write here for many orders, instead of both for each. The order stands either way;
 * until the batch lands its units are reserved, not available, so nothing can be sold twice. A batch
 * that fails, or dies with the process, is committed by the recovery worker once the attempts' leases
 * run out (`claimUncommittedStock`).
 */
export class StockCommitter {
  readonly #inventory: Pick<InventoryClient, 'commitMany'>;
  readonly #attempts: Pick<AttemptStore, 'markStockCommitted'>;
  readonly #log: Logger;
  #pending: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  /**
   * The batch under way. One at a time: it holds one inventory call and then one database connection,
   * which the checkout's admission leaves room for; the next batch leaves when it lands.
   */
  #sending: Promise<void> | undefined;

  constructor(options: {
    inventory: Pick<InventoryClient, 'commitMany'>;
    attempts: Pick<AttemptStore, 'markStockCommitted'>;
    logger: Logger;
  }) {
    this.#inventory = options.inventory;
    this.#attempts = options.attempts;
    this.#log = options.logger;
  }

  /** Queues the reservation of a completed attempt (its id). */
  add(attemptId: string): void {
    this.#pending.push(attemptId);
    this.#schedule();
  }

  /** Sends what is queued and waits for every batch: before the process exits. */
  async flush(): Promise<void> {
    while (this.#sending || this.#pending.length > 0) {
      this.#send();
      await this.#sending;
    }
  }

  #schedule(): void {
    if (this.#sending) return;
    if (this.#pending.length >= MAX_BATCH) this.#send();
    else this.#timer ??= setTimeout(() => this.#send(), MAX_WAIT_MS);
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#sending || this.#pending.length === 0) return;
    const batch = this.#pending.splice(0, MAX_BATCH);
    // A trace of its own: the batch serves many checkouts, not the one whose timer happened to send it.
    const batchTrace = startTrace('checkout.commit_stock', {
      attributes: () => ({ 'checkout.batch.size': batch.length }),
    });
    // commitNow never rejects: a failed batch is logged and left to recovery.
    this.#sending = runInTrace(batchTrace, () => this.commitNow(batch)).then(() => {
      batchTrace.span.end();
      this.#sending = undefined;
      if (this.#pending.length > 0) this.#schedule();
    });
  }

  /**
   * Commits these attempts' reservations now (recovery's way, one at a time); answers the ids committed.
   * The others wait: a reservation that cannot be committed now is recovery's again after its lease.
   */
  async commitNow(attemptIds: string[]): Promise<string[]> {
    try {
      const committed = await this.#inventory.commitMany(attemptIds);
      failpoint('checkout.after_stock_commit_call');
      await this.#attempts.markStockCommitted(committed);
      return committed;
    } catch (error) {
      logEvent(this.#log, 'warn', 'stock_commit_deferred', {
        attemptIds,
        dependency: Dependencies.inventory,
        reason: (error as Error).message,
      });
      return [];
    }
  }
}
