import type { Logger } from 'pino';
import { logEvent } from '../../contract/logEvents.ts';
import { runInTrace, startTrace, traceFields } from '../../platform/tracing/traceContext.ts';
import type { CheckoutMetrics } from '../checkoutMetrics.ts';
import type { WebhookEventStore } from '../webhooks/WebhookEventStore.ts';
import type { AttemptStore } from './AttemptStore.ts';
import type { CheckoutService, RecoveryOutcome } from './CheckoutService.ts';
import type { IdempotencyKeyStore } from './IdempotencyKeyStore.ts';

export interface RecoveryCounts {
  finished: number;
  unwound: number;
  deferred: number;
  lateChargesRefunded: number;
  stockReleased: number;
  keysPurged: number;
  webhookEventsPurged: number;
}

export interface RecoveryWorkerOptions {
  service: Pick<CheckoutService, 'recover' | 'refundLateCharges' | 'releaseStock'>;
  attempts: Pick<
    AttemptStore,
    'claimAbandoned' | 'claimUncommittedStock' | 'claimChargeRechecks' | 'claimUnreleasedStock'
  >;
  keys: Pick<IdempotencyKeyStore, 'purge'>;
  /** The webhook event ids remembered: forgotten after their retention, as keys are after theirs. */
  webhookEvents: Pick<WebhookEventStore, 'purge'>;
  metrics: Pick<CheckoutMetrics, 'recovered' | 'lateChargesRefunded'>;
  logger: Logger;
  intervalMs: number;
  keyRetentionHours: number;
}

const BATCH = 20;

/**
 * Runs inside every checkout instance. Each round it leases attempts whose worker is gone (crashed,
 * killed, cut off) and settles them, commits stock that was left uncommitted, and purges expired
 * idempotency keys. Safe with many instances: claims use FOR UPDATE SKIP LOCKED and a lease.
 */
export class RecoveryWorker {
  readonly #options: RecoveryWorkerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(options: RecoveryWorkerOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.runOnce()
        .catch((error: Error) =>
          logEvent(this.#options.logger, 'warn', 'recovery_round_failed', {
            errorClass: error.constructor.name,
            reason: error.message,
          }),
        )
        .finally(() => {
          this.#running = undefined;
        });
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One round; returns what it did. */
  async runOnce(): Promise<RecoveryCounts> {
    const { service, attempts, metrics } = this.#options;
    const counts: RecoveryCounts = {
      finished: 0,
      unwound: 0,
      deferred: 0,
      lateChargesRefunded: 0,
      stockReleased: 0,
      keysPurged: 0,
      webhookEventsPurged: 0,
    };
    const work = [
      ...(await attempts.claimAbandoned(BATCH)),
      ...(await attempts.claimUncommittedStock(BATCH)),
    ];
    for (const attempt of work) {
      // Each settlement is a trace of its own: its calls to the gateway and the inventory can be followed.
      const trace = startTrace('checkout.recover', {
        attributes: () => ({ 'checkout.attempt.id': attempt.id, 'checkout.attempt.phase': attempt.phase }),
      });
      const logger = this.#options.logger.child(traceFields(trace.span));
      let outcome: RecoveryOutcome = 'deferred';
      try {
        outcome = await runInTrace(trace, () => service.recover(attempt, logger));
      } catch (error) {
        // A bug must not stop the round: the others are settled, this one is tried again next time.
        const e = error as Error;
        logEvent(
          logger,
          'error',
          'attempt_recovery_failed',
          { attemptId: attempt.id, errorClass: e.constructor?.name, stack: e.stack },
          `recovery failed: ${e.message}`,
        );
      }
      counts[outcome]++;
      metrics.recovered(outcome);
      logEvent(logger, outcome === 'deferred' ? 'warn' : 'info', 'attempt_recovered', {
        attemptId: attempt.id,
        cartId: attempt.cartId,
        userId: attempt.userId,
        fromPhase: attempt.phase,
        outcome,
      });
      trace.span.setAttribute('checkout.recovery.outcome', outcome).end();
    }
    const { logger } = this.#options;
    for (const attempt of await attempts.claimChargeRechecks(BATCH)) {
      const refunded = await service.refundLateCharges(attempt, logger).catch((error: Error) => {
        logEvent(logger, 'warn', 'late_charge_recheck_deferred', {
          attemptId: attempt.id,
          reason: error.message,
        });
        return 0;
      });
      counts.lateChargesRefunded += refunded;
      metrics.lateChargesRefunded(refunded);
    }
    // Stock a failed attempt still holds: its release failed (the inventory was away).
    for (const attempt of await attempts.claimUnreleasedStock(BATCH)) {
      const released = await service.releaseStock(attempt).then(
        () => true,
        (error: Error) => {
          logEvent(logger, 'warn', 'stock_release_deferred', {
            attemptId: attempt.id,
            reason: error.message,
          });
          return false;
        },
      );
      if (released) counts.stockReleased++;
    }
    counts.keysPurged = await this.#options.keys.purge(this.#options.keyRetentionHours);
    counts.webhookEventsPurged = await this.#options.webhookEvents.purge();
    return counts;
  }
}
