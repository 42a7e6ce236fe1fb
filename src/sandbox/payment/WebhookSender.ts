import type { Logger } from 'pino';
import Stripe from 'stripe';
import { request } from 'undici';
import { logEvent } from '../../contract/logEvents.ts';
import type { Database } from '../../platform/database/Database.ts';
import { outgoingTraceHeaders } from '../../platform/tracing/traceContext.ts';
import { type EventRow, eventObject } from './stripeObjects.ts';

export interface WebhookSenderOptions {
  db: Database;
  /** The webhook endpoint: where every event is POSTed. */
  url: string;
  /** The endpoint's signing secret (`whsec_...`): what its `Stripe-Signature` is made with. */
  secret: string;
  logger: Logger;
  /** True while deliveries are held back (the fault switch's `webhooks: 'hold'`): they go out after. */
  held: () => boolean;
  /** How often to look for events due, besides the nudge after each change. */
  pollMs?: number;
  /** How long the endpoint has to answer, as Stripe's delivery timeout. */
  timeoutMs?: number;
}

/** Events sent per round. */
const BATCH = 20;

/**
 * Leases the events due (undelivered, their pause over) by moving their next try ahead: one second after
 * the first try, doubling up to a minute, as Stripe retries with a growing pause. SKIP LOCKED keeps two
 * rounds from sending one event together.
 */
const CLAIM_DUE = `UPDATE events SET delivery_tries = delivery_tries + 1,
    next_delivery_at = clock_timestamp() + least(interval '1 second' * power(2, delivery_tries), interval '60 seconds')
  WHERE id IN (SELECT id FROM events WHERE delivered_at IS NULL AND next_delivery_at <= clock_timestamp()
               ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED)
  RETURNING id, type, object, idempotency_key, delivered_at, created_at, delivery_tries`;

/**
 * Sends the sandbox's events to its webhook endpoint, signed as Stripe signs them (the SDK's own
 * signing), until the endpoint answers 2xx. As with Stripe, an endpoint must not count on their order:
 * the events due are sent together, and a retried one arrives after newer ones.
 */
export class WebhookSender {
  readonly #options: Required<WebhookSenderOptions>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(options: WebhookSenderOptions) {
    this.#options = { pollMs: 500, timeoutMs: 10_000, ...options };
  }

  start(): void {
    this.#timer = setInterval(() => this.nudge(), this.#options.pollMs);
    this.#timer.unref();
  }

  /** Sends what is due now (a change just committed), or right after the round under way. */
  nudge(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#sendDue().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.nudge();
      }
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#again = false;
    await this.#running;
  }

  async #sendDue(): Promise<void> {
    if (this.#options.held()) return;
    try {
      const due = await this.#options.db.query<EventRow & { delivery_tries: number }>(CLAIM_DUE, [BATCH]);
      if (due.rows.length === 0) return;
      // Sent together, as Stripe sends them (no order promised); marked delivered in one write.
      const sent = await Promise.all(due.rows.map((event) => this.#send(event)));
      const delivered = due.rows.filter((_, i) => sent[i]).map((event) => event.id);
      if (delivered.length > 0)
        await this.#options.db.query(
          'UPDATE events SET delivered_at = clock_timestamp() WHERE id = ANY($1::text[])',
          [delivered],
        );
    } catch (error) {
      // The database is away: the events wait in it, and the next round tries again.
      this.#failed(error);
    }
  }

  /** True when the endpoint took the event (answered 2xx). */
  async #send(event: EventRow & { delivery_tries: number }): Promise<boolean> {
    const { url, secret, timeoutMs } = this.#options;
    const payload = JSON.stringify(eventObject(event));
    try {
      const answer = await request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }),
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          // The charge's trace goes on to the checkout's webhook, spans exported or not.
          ...outgoingTraceHeaders(),
        },
        body: payload,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await answer.body.dump();
      if (answer.statusCode >= 200 && answer.statusCode <= 299) return true;
      this.#failed(new Error(`the endpoint answered ${answer.statusCode}`), event);
    } catch (error) {
      this.#failed(error, event);
    }
    return false;
  }

  /** `event` undefined: the events due could not be read. */
  #failed(error: unknown, event?: EventRow & { delivery_tries: number }): void {
    logEvent(this.#options.logger, 'warn', 'webhook_delivery_failed', {
      ...(event ? { eventId: event.id, eventType: event.type, tries: event.delivery_tries } : {}),
      reason: (error as Error).message,
    });
  }
}
