import { Counter, Gauge, type Registry } from 'prom-client';
import { Metrics } from '../contract/metrics.ts';
import { RECOVERY_OUTCOMES, type RecoveryOutcome } from './flow/CheckoutService.ts';
import { CHECKOUT_OUTCOMES } from './flow/checkoutAnswers.ts';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_OUTCOMES, type WebhookOutcome } from './webhooks/webhookEvents.ts';

/** How long a scrape may wait for the count of unsettled attempts before it reports the last one. */
const UNSETTLED_READ_BUDGET_MS = 50;
/** How often, at most, the count of unsettled attempts is read from the database. */
const UNSETTLED_READ_EVERY_MS = 1000;

/**
 * The checkout's own metrics, beside the platform's: what became of each checkout, what recovery
 * settled, and how many attempts are stuck (money or stock may be held by them).
 */
export class CheckoutMetrics {
  readonly #outcomes: Counter<'outcome'>;
  readonly #recoveries: Counter<'result'>;
  readonly #lateChargesRefunded: Counter;
  readonly #webhookEvents: Counter<'type' | 'outcome'>;

  constructor(registry: Registry, countUnsettled: () => Promise<number>) {
    const registers = [registry];
    this.#outcomes = new Counter({
      ...Metrics.checkoutOutcomes,
      registers,
    });
    this.#recoveries = new Counter({
      ...Metrics.checkoutRecoveries,
      registers,
    });
    // Every outcome and result known in advance, at 0 from the start: the first failures then have an
    // earlier sample for a rate to be taken from (the webhook events' too, below).
    for (const outcome of CHECKOUT_OUTCOMES) this.#outcomes.inc({ outcome }, 0);
    for (const result of RECOVERY_OUTCOMES) this.#recoveries.inc({ result }, 0);
    this.#lateChargesRefunded = new Counter({
      ...Metrics.lateChargesRefunded,
      registers,
    });
    this.#webhookEvents = new Counter({ ...Metrics.webhookEvents, registers });
    for (const type of WEBHOOK_EVENT_TYPES)
      for (const outcome of WEBHOOK_OUTCOMES) this.#webhookEvents.inc({ type, outcome }, 0);
    let last = 0;
    let readAt = Number.NEGATIVE_INFINITY;
    let reading: Promise<void> | undefined;
    new Gauge({
      ...Metrics.attemptsUnsettled,
      registers,
      // Read from the database at scrape time, but never waited on for long: a hung database must not
      // hang the scrape, so the last value read stands until a read comes back.
      async collect() {
        // At most one read a second, however often it is scraped (a flood of /metrics or /dashboard/data
        // must not become a flood of queries); a lease is 30 s, so a second-old count says the same.
        if (performance.now() - readAt < UNSETTLED_READ_EVERY_MS) {
          this.set(last);
          return;
        }
        readAt = performance.now();
        reading ??= countUnsettled()
          .then((count) => {
            last = count;
          })
          .catch(() => {})
          .finally(() => {
            reading = undefined;
          });
        let timer: NodeJS.Timeout | undefined;
        const budget = new Promise((resolve) => {
          timer = setTimeout(resolve, UNSETTLED_READ_BUDGET_MS);
        });
        await Promise.race([reading, budget]);
        clearTimeout(timer);
        this.set(last);
      },
    });
  }

  checkoutAnswered(outcome: string): void {
    this.#outcomes.inc({ outcome });
  }

  recovered(result: RecoveryOutcome): void {
    this.#recoveries.inc({ result });
  }

  webhookEvent(type: string, outcome: WebhookOutcome): void {
    this.#webhookEvents.inc({ type: WEBHOOK_EVENT_TYPES.includes(type) ? type : 'other', outcome });
  }

  lateChargesRefunded(count: number): void {
    if (count > 0) this.#lateChargesRefunded.inc(count);
  }
}
