import { fileURLToPath } from 'node:url';
import type { Database } from '../database/Database.ts';

/**
 * The table's migration, for the migrations of a service that uses this store. It keeps the name it was
 * first run under (as the checkout's fifth), so that databases migrated before it moved here see nothing new.
 */
export const RATE_LIMIT_MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** One hit in a key's window, starting a new window when the last one ended: $1 key, $2 window ms. */
export const RATE_LIMIT_HIT = `INSERT INTO rate_limit_windows (key, hits, reset_at)
  VALUES ($1, 1, now() + make_interval(secs => $2::double precision / 1000))
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN rate_limit_windows.reset_at <= now() THEN 1 ELSE rate_limit_windows.hits + 1 END,
    reset_at = CASE WHEN rate_limit_windows.reset_at <= now() THEN EXCLUDED.reset_at ELSE rate_limit_windows.reset_at END
  RETURNING hits, ceil(extract(epoch FROM reset_at - now()) * 1000)::integer AS ttl_ms`;

/** How often windows that ended are deleted. */
const PURGE_INTERVAL_MS = 60_000;

/**
 * A store for @fastify/rate-limit in PostgreSQL, so that a limit holds across every instance of a
 * service, not per process. One row per key and window in `rate_limit_windows` (UNLOGGED: counters need
 * no crash safety, and their writes cost no WAL flush). The increment is one atomic upsert; a database
 * that cannot answer makes the request a 503, like any other call that needs it.
 */
export class PostgresRateLimitStore {
  readonly #db: Database;
  readonly #purge: NodeJS.Timeout;

  constructor(db: Database) {
    this.#db = db;
    this.#purge = setInterval(() => {
      this.#db.query('DELETE FROM rate_limit_windows WHERE reset_at < now()').catch(() => {});
    }, PURGE_INTERVAL_MS);
    this.#purge.unref();
  }

  incr(key: string, callback: Callback, timeWindowMs: number): void {
    this.#db
      .query<{ hits: number; ttl_ms: number }>({ name: 'rate_limit_hit', text: RATE_LIMIT_HIT }, [
        key,
        timeWindowMs,
      ])
      .then(
        (result) => {
          const row = result.rows[0];
          callback(null, { current: row?.hits ?? 1, ttl: Math.max(0, row?.ttl_ms ?? timeWindowMs) });
        },
        (error: Error) => callback(error),
      );
  }

  /** Every route shares the one table; keys keep them apart. */
  child(): PostgresRateLimitStore {
    return this;
  }

  close(): void {
    clearInterval(this.#purge);
  }
}
