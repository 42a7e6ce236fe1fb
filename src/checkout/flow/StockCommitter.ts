import type { Logger } from 'pino';
import { failpoint } from '../../platform/process/failpoint.ts';
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
  readonly #inventory: InventoryClient;
  readonly #attempts: AttemptStore;
  readonly #log: Logger;
  #pending: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: { inventory: InventoryClient; attempts: AttemptStore; logger: Logger }) {
    this.#inventory = options.inventory;
    this.#attempts = options.attempts;
    this.#log = options.logger;
  }

  /** Queues the reservation of a completed attempt (its id). */
  add(attemptId: string): void {
    this.#pending.push(attemptId);
    if (this.#pending.length >= MAX_BATCH) this.#send();
    else this.#timer ??= setTimeout(() => this.#send(), MAX_WAIT_MS);
  }

  /** Sends what is queued and waits for every batch under way: before the process exits. */
  async flush(): Promise<void> {
    this.#send();
    await Promise.all(this.#inFlight);
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    // commitNow never rejects: a failed batch is logged and left to recovery.
    const sending: Promise<void> = this.commitNow(batch).then(() => {
      this.#inFlight.delete(sending);
    });
    this.#inFlight.add(sending);
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
      this.#log.warn(
        { attemptIds, dependency: 'inventoryService', reason: (error as Error).message },
        'stock_commit_deferred',
      );
      return [];
    }
  }
}
