import type { Database, Queryable } from '../../platform/database/Database.ts';
import type { LineItem } from '../gateways/InventoryClient.ts';

/**
 * Where an attempt stands. Each is written before and after each external call, so a crash at any
 * point leaves a row that says what is known:
 *   started -> stock_reserved -> payment_pending -> charged -> completed
 *   any phase before `charged` -> failed (stock released, nothing charged)
 */
export type Phase = 'started' | 'stock_reserved' | 'payment_pending' | 'charged' | 'completed' | 'failed';

export interface Attempt {
  id: string;
  userId: string;
  cartId: string;
  phase: Phase;
  amountCents: number;
  currency: string;
  items: LineItem[];
  chargeId: string | null;
  stockCommitted: boolean;
}

export interface StoredOutcome {
  status: number;
  body: string;
}

interface AttemptRow {
  id: string;
  user_id: string;
  cart_id: string;
  phase: Phase;
  amount_cents: number;
  currency: string;
  items: LineItem[];
  charge_id: string | null;
  stock_committed: boolean;
}

const fromRow = (row: AttemptRow): Attempt => ({
  id: row.id,
  userId: row.user_id,
  cartId: row.cart_id,
  phase: row.phase,
  amountCents: row.amount_cents,
  currency: row.currency,
  items: row.items,
  chargeId: row.charge_id,
  stockCommitted: row.stock_committed,
});

const UNFINISHED = `phase NOT IN ('completed', 'failed')`;

/**
 * Checkout attempts. Whoever works on one (a request, or a recovery worker of any instance) holds its
 * lease (`locked_until`); every phase change is conditional on the phase it leaves, so two workers can
 * never both move it.
 */
export class AttemptStore {
  readonly #db: Database;
  readonly #leaseMs: number;

  constructor(db: Database, leaseMs: number) {
    this.#db = db;
    this.#leaseMs = leaseMs;
  }

  async insert(
    tx: Queryable,
    attempt: Omit<Attempt, 'phase' | 'chargeId' | 'stockCommitted'>,
  ): Promise<Attempt> {
    await tx.query(
      `INSERT INTO checkout_attempts (id, user_id, cart_id, phase, amount_cents, currency, items, locked_until)
       VALUES ($1, $2, $3, 'started', $4, $5, $6, now() + make_interval(secs => $7::double precision / 1000))`,
      [
        attempt.id,
        attempt.userId,
        attempt.cartId,
        attempt.amountCents,
        attempt.currency,
        JSON.stringify(attempt.items),
        this.#leaseMs,
      ],
    );
    return { ...attempt, phase: 'started', chargeId: null, stockCommitted: false };
  }

  /** Moves an attempt from one phase to the next; false when it was not in `from` (someone else moved it). */
  async advance(
    id: string,
    from: Phase,
    to: Phase,
    fields: { chargeId?: string; errorCode?: string; recheckChargeAfterMs?: number } = {},
  ): Promise<boolean> {
    const result = await this.#db.query(
      `UPDATE checkout_attempts SET phase = $3, charge_id = COALESCE($4, charge_id), error_code = COALESCE($5, error_code),
       recheck_charge_after = COALESCE(now() + make_interval(secs => $6::double precision / 1000), recheck_charge_after),
       updated_at = now() WHERE id = $1 AND phase = $2`,
      [id, from, to, fields.chargeId ?? null, fields.errorCode ?? null, fields.recheckChargeAfterMs ?? null],
    );
    return result.rowCount === 1;
  }

  async markStockCommitted(id: string): Promise<void> {
    await this.#db.query(
      'UPDATE checkout_attempts SET stock_committed = true, updated_at = now() WHERE id = $1',
      [id],
    );
  }

  /** Takes over an unfinished attempt whose lease has run out (its worker died); undefined if someone holds it. */
  async takeOver(tx: Queryable, id: string): Promise<Attempt | undefined> {
    const result = await tx.query<AttemptRow>(
      `UPDATE checkout_attempts SET locked_until = now() + make_interval(secs => $2::double precision / 1000)
       WHERE id = $1 AND ${UNFINISHED} AND locked_until < now() RETURNING *`,
      [id, this.#leaseMs],
    );
    const row = result.rows[0];
    return row ? fromRow(row) : undefined;
  }

  /** For recovery: unfinished attempts past their lease (their worker is gone). */
  async claimAbandoned(limit: number): Promise<Attempt[]> {
    return this.#claim('locked_until', UNFINISHED, limit);
  }

  /** Completed attempts whose reservation was not committed in their own time (the inventory was down). */
  async claimUncommittedStock(limit: number): Promise<Attempt[]> {
    return this.#claim('locked_until', `phase = 'completed' AND NOT stock_committed`, limit);
  }

  /** Failed attempts due a second look for a charge that landed late. */
  async claimChargeRechecks(limit: number): Promise<Attempt[]> {
    return this.#claim('recheck_charge_after', 'TRUE', limit);
  }

  /**
   * Leases up to `limit` attempts matching `condition` whose `due` time has passed, by moving that time
   * one lease ahead. SKIP LOCKED lets the workers of many instances share the work without waiting on,
   * or doubling, each other; a worker that dies leaves its claims to expire.
   */
  async #claim(
    due: 'locked_until' | 'recheck_charge_after',
    condition: string,
    limit: number,
  ): Promise<Attempt[]> {
    const result = await this.#db.query<AttemptRow>(
      `UPDATE checkout_attempts SET ${due} = now() + make_interval(secs => $2::double precision / 1000)
       WHERE id IN (SELECT id FROM checkout_attempts WHERE ${condition} AND ${due} < now()
                    ORDER BY ${due} LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [limit, this.#leaseMs],
    );
    return result.rows.map(fromRow);
  }

  /** Attempts not settled (completed with their stock sold, or failed) whose phase has not moved for a lease. */
  async countUnsettled(): Promise<number> {
    const result = await this.#db.query<{ count: string }>(
      `SELECT count(*) FROM checkout_attempts
       WHERE (${UNFINISHED} OR (phase = 'completed' AND NOT stock_committed))
         AND updated_at < now() - make_interval(secs => $1::double precision / 1000)`,
      [this.#leaseMs],
    );
    return Number(result.rows[0]?.count ?? 0);
  }

  async chargeRechecked(id: string): Promise<void> {
    await this.#db.query('UPDATE checkout_attempts SET recheck_charge_after = NULL WHERE id = $1', [id]);
  }

  /**
   * The last step, in one transaction: the order exists, the cart is closed, the attempt is complete and
   * the answer is stored for its idempotency key (if it has one), or none of these happened.
   */
  async complete(attempt: Attempt, orderId: string, outcome: StoredOutcome): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      const moved = await tx.query(
        `UPDATE checkout_attempts SET phase = 'completed', updated_at = now() WHERE id = $1 AND phase = 'charged'`,
        [attempt.id],
      );
      if (moved.rowCount !== 1) return false;
      await tx.query(
        `INSERT INTO orders (id, user_id, cart_id, attempt_id, charge_id, amount_cents, currency, items)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          orderId,
          attempt.userId,
          attempt.cartId,
          attempt.id,
          attempt.chargeId,
          attempt.amountCents,
          attempt.currency,
          JSON.stringify(attempt.items),
        ],
      );
      await tx.query(
        `UPDATE carts SET status = 'checked_out', checked_out_at = now(), updated_at = now() WHERE id = $1`,
        [attempt.cartId],
      );
      await tx.query(
        `UPDATE idempotency_keys SET response_status = $2, response_body = $3
         WHERE attempt_id = $1 AND response_status IS NULL`,
        [attempt.id, outcome.status, outcome.body],
      );
      return true;
    });
  }

  /** Forgets idempotency keys older than the retention; returns how many. */
  async purgeKeys(retentionHours: number): Promise<number> {
    const result = await this.#db.query(
      `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`,
      [retentionHours],
    );
    return result.rowCount ?? 0;
  }
}

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
  | { kind: 'in_flight'; attemptId: string; leaseExpired: boolean }
  | { kind: 'retry' };

/**
 * Claims a key inside the caller's transaction. A concurrent request with the same key waits on the
 * row lock until the first one's transaction ends, then sees its attempt.
 */
export async function claimKey(tx: Queryable, scope: KeyScope): Promise<KeyState> {
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
  }>(
    `SELECT k.request_hash, k.response_status, k.response_body, k.attempt_id, a.phase, a.locked_until < now() AS lease_expired
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
    return { kind: 'in_flight', attemptId: row.attempt_id, leaseExpired: row.lease_expired === true };
  }
  return { kind: 'retry' };
}

export async function linkKey(tx: Queryable, scope: KeyScope, attemptId: string): Promise<void> {
  await tx.query('UPDATE idempotency_keys SET attempt_id = $3 WHERE user_id = $1 AND key = $2', [
    scope.userId,
    scope.key,
    attemptId,
  ]);
}

/** Stores a final 4xx answer for the key, unless one is stored already: the first answer wins. */
export async function storeOutcome(db: Queryable, scope: KeyScope, outcome: StoredOutcome): Promise<void> {
  await db.query(
    `INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (user_id, key) DO UPDATE SET response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body
     WHERE idempotency_keys.response_status IS NULL AND idempotency_keys.request_hash = EXCLUDED.request_hash`,
    [scope.userId, scope.key, scope.requestHash, outcome.status, outcome.body],
  );
}
