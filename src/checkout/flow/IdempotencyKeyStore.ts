import type { Database, Queryable } from '../../platform/database/Database.ts';
import type { Phase, StoredOutcome } from './AttemptStore.ts';

/** An idempotency key, scoped to its user, and the hash of the request first sent with it. */
export interface KeyScope {
  userId: string;
  key: string;
  requestHash: string;
}

export type KeyState =
  | { kind: 'new' }
  | { kind: 'mismatch' }
  | { kind: 'replay'; outcome: StoredOutcome }
  | {
      kind: 'in_flight';
      attemptId: string;
      leaseExpired: boolean;
      /** Until the attempt's lease runs out (0 once it has), in milliseconds. */
      leaseLeftMs: number;
    }
  | { kind: 'retry' };

export const PURGE_KEYS =
  'DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)';

/**
 * The Idempotency-Keys of checkouts: each claimed with its attempt in one transaction, answered by the
 * first final outcome stored for it, forgotten after the retention.
 */
export class IdempotencyKeyStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Claims a key inside the caller's transaction. A concurrent request with the same key waits on the
   * row lock until the first one's transaction ends, then sees its attempt.
   */
  async claim(tx: Queryable, scope: KeyScope): Promise<KeyState> {
    const inserted = await tx.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [scope.userId, scope.key, scope.requestHash],
    );
    if (inserted.rowCount === 1) return { kind: 'new' };
    const existing = await tx.query<{
      request_hash: string;
      response_status: number | null;
      response_body: string | null;
      attempt_id: string | null;
      phase: Phase | null;
      lease_expired: boolean | null;
      lease_left_ms: number | null;
    }>(
      `SELECT k.request_hash, k.response_status, k.response_body, k.attempt_id, a.phase, a.locked_until < now() AS lease_expired,
         GREATEST(0, EXTRACT(EPOCH FROM a.locked_until - now()) * 1000)::float8 AS lease_left_ms
       FROM idempotency_keys k LEFT JOIN checkout_attempts a ON a.id = k.attempt_id
       WHERE k.user_id = $1 AND k.key = $2 FOR UPDATE OF k`,
      [scope.userId, scope.key],
    );
    const row = existing.rows[0];
    if (!row || row.request_hash !== scope.requestHash) return { kind: 'mismatch' };
    if (row.response_status !== null && row.response_body !== null) {
      return { kind: 'replay', outcome: { status: row.response_status, body: row.response_body } };
    }
    if (row.attempt_id && row.phase !== 'failed' && row.phase !== 'completed') {
      return {
        kind: 'in_flight',
        attemptId: row.attempt_id,
        leaseExpired: row.lease_expired === true,
        leaseLeftMs: row.lease_left_ms ?? 0,
      };
    }
    return { kind: 'retry' };
  }

  /** Stores a final 4xx answer for the key, unless one is stored already: the first answer wins. */
  async storeOutcome(scope: KeyScope, outcome: StoredOutcome): Promise<void> {
    await this.#db.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, key) DO UPDATE SET response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body
       WHERE idempotency_keys.response_status IS NULL AND idempotency_keys.request_hash = EXCLUDED.request_hash`,
      [scope.userId, scope.key, scope.requestHash, outcome.status, outcome.body],
    );
  }

  /** Forgets keys older than the retention; returns how many. */
  async purge(retentionHours: number): Promise<number> {
    const result = await this.#db.query(PURGE_KEYS, [retentionHours]);
    return result.rowCount ?? 0;
  }
}
