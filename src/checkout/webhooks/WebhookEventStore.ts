import type { Database } from '../../platform/database/Database.ts';

/** How long an event id is remembered: Stripe resends for up to 3 days, an operator later by hand. */
export const WEBHOOK_EVENT_RETENTION_DAYS = 30;

export const PURGE_WEBHOOK_EVENTS =
  'DELETE FROM webhook_events WHERE received_at < now() - make_interval(days => $1)';

/**
 * The ids of the provider's events that settled an attempt. An id is recorded only after its event was
 * handled, so a failure in between has the provider send it again; two deliveries at once may both act,
 * which the settlement's conditional writes make harmless.
 */
export class WebhookEventStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async seen(id: string): Promise<boolean> {
    const result = await this.#db.query('SELECT 1 FROM webhook_events WHERE id = $1', [id]);
    return result.rowCount === 1;
  }

  async record(id: string, type: string): Promise<void> {
    await this.#db.query('INSERT INTO webhook_events (id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      id,
      type,
    ]);
  }

  /** Forgets the ids past the retention; returns how many. */
  async purge(retentionDays = WEBHOOK_EVENT_RETENTION_DAYS): Promise<number> {
    return (await this.#db.query(PURGE_WEBHOOK_EVENTS, [retentionDays])).rowCount ?? 0;
  }
}
