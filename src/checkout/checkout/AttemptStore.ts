import type { Database, Queryable } from '../../platform/database/Database.ts';
import type { LineItem } from '../gateways/InventoryClient.ts';

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
}

export interface StoredOutcome {
  status: number;
  body: string;
}

/** How long a request may work on an attempt before recovery may consider it abandoned. */
export const ATTEMPT_LEASE_SECONDS = 30;

/** Checkout attempts and their phases. Each phase change is its own committed write. */
export class AttemptStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async insert(tx: Queryable, attempt: Omit<Attempt, 'phase' | 'chargeId'>): Promise<Attempt> {
    await tx.query(
      `INSERT INTO checkout_attempts (id, user_id, cart_id, phase, amount_cents, currency, items, locked_until)
       VALUES ($1, $2, $3, 'started', $4, $5, $6, now() + make_interval(secs => $7))`,
      [
        attempt.id,
        attempt.userId,
        attempt.cartId,
        attempt.amountCents,
        attempt.currency,
        JSON.stringify(attempt.items),
        ATTEMPT_LEASE_SECONDS,
      ],
    );
    return { ...attempt, phase: 'started', chargeId: null };
  }

  async advance(
    id: string,
    phase: Phase,
    fields: { chargeId?: string; errorCode?: string } = {},
  ): Promise<void> {
    await this.#db.query(
      `UPDATE checkout_attempts SET phase = $2, charge_id = COALESCE($3, charge_id), error_code = COALESCE($4, error_code),
       updated_at = now() WHERE id = $1`,
      [id, phase, fields.chargeId ?? null, fields.errorCode ?? null],
    );
  }

  async markStockCommitted(id: string): Promise<void> {
    await this.#db.query(
      'UPDATE checkout_attempts SET stock_committed = true, updated_at = now() WHERE id = $1',
      [id],
    );
  }

  /**
   * The last step, in one transaction: the order exists, the cart is closed, the attempt is complete
   * and the answer is stored for the idempotency key, or none of these happened.
   */
  async complete(
    attempt: Attempt,
    orderId: string,
    outcome: StoredOutcome,
    key: KeyScope | undefined,
  ): Promise<void> {
    await this.#db.transaction(async (tx) => {
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
      await tx.query(`UPDATE checkout_attempts SET phase = 'completed', updated_at = now() WHERE id = $1`, [
        attempt.id,
      ]);
      if (key) await storeOutcome(tx, key, outcome);
    });
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
  | { kind: 'in_flight'; attemptId: string }
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
  }>(
    `SELECT k.request_hash, k.response_status, k.response_body, k.attempt_id, a.phase
     FROM idempotency_keys k LEFT JOIN checkout_attempts a ON a.id = k.attempt_id
     WHERE k.user_id = $1 AND k.key = $2 FOR UPDATE OF k`,
    [scope.userId, scope.key],
  );
  const row = existing.rows[0];
  if (!row || row.request_hash !== scope.requestHash) return { kind: 'mismatch' };
  if (row.response_status !== null && row.response_body !== null) {
    return { kind: 'replay', outcome: { status: row.response_status, body: row.response_body } };
  }
  if (row.attempt_id && row.phase !== 'failed') return { kind: 'in_flight', attemptId: row.attempt_id };
  return { kind: 'retry' };
}

export async function linkKey(tx: Queryable, scope: KeyScope, attemptId: string): Promise<void> {
  await tx.query('UPDATE idempotency_keys SET attempt_id = $3 WHERE user_id = $1 AND key = $2', [
    scope.userId,
    scope.key,
    attemptId,
  ]);
}

/** Stores a final answer (2xx or 4xx) for the key, unless one is stored already: the first answer wins. */
export async function storeOutcome(db: Queryable, scope: KeyScope, outcome: StoredOutcome): Promise<void> {
  await db.query(
    `INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (user_id, key) DO UPDATE SET response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body
     WHERE idempotency_keys.response_status IS NULL AND idempotency_keys.request_hash = EXCLUDED.request_hash`,
    [scope.userId, scope.key, scope.requestHash, outcome.status, outcome.body],
  );
}
