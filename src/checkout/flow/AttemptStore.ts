import type { Database, Queryable } from '../../platform/database/Database.ts';
import { CART_LIMITS } from '../carts/cartLimits.ts';
import type { LineItem } from '../gateways/InventoryClient.ts';
import { PURGE_WEBHOOK_EVENTS } from '../webhooks/WebhookEventStore.ts';
import { PURGE_KEYS } from './IdempotencyKeyStore.ts';

/**
 * Where an attempt stands: `started -> completed` (the order exists) or `started -> failed` (stock
 * released, nothing charged). What happened in between is asked of the dependencies, not written down:
 * the attempt id is the idempotency key of its reservation and of its charge, so inventory and the
 * gateway can always say whether it reserved or charged.
 * `stock_reserved`, `payment_pending` and `charged` are the phases earlier versions wrote between the
 * calls; recovery still settles attempts left in them.
 */
export type Phase = 'started' | 'stock_reserved' | 'payment_pending' | 'charged' | 'completed' | 'failed';

/** An attempt whose outcome is open: neither an order nor a failure. */
const UNFINISHED_PHASES = `('started', 'stock_reserved', 'payment_pending', 'charged')`;
/** An open attempt known not to be paid for: it may fail. */
const UNPAID_PHASES = `('started', 'stock_reserved', 'payment_pending')`;

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
  /** When the attempt was recorded (the database's clock): a charge for it is made no earlier. */
  startedAt: Date;
}

export type StartResult =
  | { started: true; attempt: Attempt }
  | {
      started: false;
      reason: 'cart_not_found' | 'cart_checked_out' | 'cart_changed' | 'cart_empty' | 'cart_limit_exceeded';
    };

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
  created_at: Date;
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
  startedAt: row.created_at,
});

const UNFINISHED = `phase NOT IN ('completed', 'failed')`;

/**
 * Phase 1 in one statement: reads the cart (scoped to its owner) and, when it is open, not empty and its
 * total no more than $6 (summed in bigint: prices may have risen since the cart was filled), records the
 * attempt and links it to its idempotency key. The summary row says why not otherwise.
 *
 * The cart's row is locked, so an add to it waits for the attempt and then sees it (and is refused). An
 * add that committed while this statement waited for the lock is not in the lines it read (they come from
 * the statement's snapshot, the locked row from after the wait): the row's version then differs between
 * the two reads, and the statement records nothing and says `changed`, to be run again.
 */
const START = `WITH locked AS (
    SELECT status, xmin::text AS version FROM carts WHERE id = $2 AND user_id = $1 FOR UPDATE
  ), cart AS (
    SELECT status, version IS DISTINCT FROM (SELECT xmin::text FROM carts WHERE id = $2) AS changed FROM locked
  ), lines AS (
    SELECT i.sku, i.quantity, p.price_cents, p.currency
    FROM cart_items i JOIN products p ON p.sku = i.sku
    WHERE i.cart_id = $2 AND EXISTS (SELECT 1 FROM cart)
  ), totals AS (
    SELECT (SELECT status FROM cart) AS status, coalesce((SELECT changed FROM cart), false) AS changed,
           count(*)::int AS line_count,
           coalesce(sum(price_cents::bigint * quantity), 0) AS amount,
           coalesce(min(currency), 'usd') AS currency,
           coalesce(jsonb_agg(jsonb_build_object('sku', sku, 'quantity', quantity) ORDER BY sku), '[]') AS items
    FROM lines
  ), summary AS (
    SELECT status, changed, line_count, amount <= $6 AS within_limit,
           CASE WHEN amount <= $6 THEN amount::int ELSE 0 END AS amount_cents, currency, items
    FROM totals
  ), attempt AS (
    INSERT INTO checkout_attempts (id, user_id, cart_id, phase, amount_cents, currency, items, locked_until)
    SELECT $3, $1, $2, 'started', amount_cents, currency, items, now() + make_interval(secs => $4::double precision / 1000)
    FROM summary WHERE status = 'open' AND NOT changed AND line_count > 0 AND within_limit
    RETURNING id
  ), linked AS (
    UPDATE idempotency_keys SET attempt_id = (SELECT id FROM attempt)
    WHERE user_id = $1 AND key = $5 AND EXISTS (SELECT 1 FROM attempt)
  )
  SELECT status, changed, line_count, within_limit, amount_cents, currency, items,
         EXISTS (SELECT 1 FROM attempt) AS started, now() AS started_at
  FROM summary`;

/**
 * The last step in one statement, so one transaction: the attempt is complete with its charge, the
 * order exists, the cart is closed, and the answer is stored for its idempotency key (if it has one);
 * or, when the attempt had moved on (another worker settled it), none of these.
 */
const COMPLETE = `WITH moved AS (
    UPDATE checkout_attempts SET phase = 'completed', charge_id = $2, updated_at = now()
    WHERE id = $1 AND phase IN ${UNFINISHED_PHASES}
    RETURNING id, user_id, cart_id, amount_cents, currency, items
  ), ordered AS (
    INSERT INTO orders (id, user_id, cart_id, attempt_id, charge_id, amount_cents, currency, items)
    SELECT $3, user_id, cart_id, id, $2, amount_cents, currency, items FROM moved
  ), closed AS (
    UPDATE carts SET status = 'checked_out', checked_out_at = now(), updated_at = now()
    WHERE id = (SELECT cart_id FROM moved)
  ), answered AS (
    UPDATE idempotency_keys SET response_status = $4, response_body = $5
    WHERE attempt_id = (SELECT id FROM moved) AND response_status IS NULL
  )
  SELECT count(*)::int AS moved FROM moved`;

const FAIL = `UPDATE checkout_attempts SET phase = 'failed', error_code = $2,
    recheck_charge_after = now() + make_interval(secs => $3::double precision / 1000),
    stock_release_pending = $4, updated_at = now()
  WHERE id = $1 AND phase IN ${UNPAID_PHASES}`;

/**
 * A webhook's notice of an open attempt's payment, in one statement so that it and the request's
 * `ANSWERED_UNKNOWN` are ordered by the row's lock: the attempt is taken over (its lease renewed for the
 * caller) when no worker holds it (its lease ran out, or its request answered without an outcome), and
 * otherwise marked as notified, for the worker holding it to settle it.
 */
const NOTICE = `WITH current AS (
    SELECT id, (locked_until < now() OR answered_unknown_at IS NOT NULL) AS free
    FROM checkout_attempts WHERE id = $1 AND ${UNFINISHED} FOR UPDATE
  )
  UPDATE checkout_attempts a SET answered_unknown_at = NULL,
    payment_notified_at = CASE WHEN current.free THEN NULL ELSE now() END,
    locked_until = CASE WHEN current.free
      THEN now() + make_interval(secs => $2::double precision / 1000) ELSE a.locked_until END
  FROM current WHERE a.id = current.id
  RETURNING a.*, current.free AS claimed`;

/** The request gives an attempt up without an outcome, unless a webhook told of its payment meanwhile. */
const ANSWERED_UNKNOWN = `UPDATE checkout_attempts SET answered_unknown_at = now()
  WHERE id = $1 AND ${UNFINISHED} AND payment_notified_at IS NULL`;

const STOCK_COMMITTED = `UPDATE checkout_attempts SET stock_committed = true, updated_at = now()
  WHERE id = ANY($1::uuid[]) AND NOT stock_committed`;

/** The request path's statements, for the bench's floor: the same writes without the platform layer. */
export const CHECKOUT_STATEMENTS = { start: START, complete: COMPLETE, stockCommitted: STOCK_COMMITTED };

/**
 * Leases up to $1 attempts matching `condition` whose `due` time has passed, by moving that time one
 * lease ($2 ms) ahead. SKIP LOCKED lets the workers of many instances share the work without waiting
 * on, or doubling, each other; a worker that dies leaves its claims to expire.
 */
const claim = (due: 'locked_until' | 'recheck_charge_after', condition: string) =>
  `UPDATE checkout_attempts SET ${due} = now() + make_interval(secs => $2::double precision / 1000),
     answered_unknown_at = NULL, payment_notified_at = NULL
   WHERE id IN (SELECT id FROM checkout_attempts WHERE ${condition} AND ${due} < now()
                ORDER BY ${due} LIMIT $1 FOR UPDATE SKIP LOCKED)
   RETURNING *`;
const CLAIM_ABANDONED = claim('locked_until', UNFINISHED);
const CLAIM_UNCOMMITTED_STOCK = claim('locked_until', `phase = 'completed' AND NOT stock_committed`);
const CLAIM_CHARGE_RECHECKS = claim('recheck_charge_after', 'TRUE');
const CLAIM_UNRELEASED_STOCK = claim('locked_until', 'stock_release_pending');
const COUNT_UNSETTLED = `SELECT count(*) FROM checkout_attempts
  WHERE (${UNFINISHED} OR (phase = 'completed' AND NOT stock_committed) OR (phase = 'failed' AND stock_release_pending))
    AND updated_at < now() - make_interval(secs => $1::double precision / 1000)`;

/**
 * The statements that run over the whole history (recovery's claims, the unsettled gauge, the key
 * purge), with typical parameters: `npm run bench` shows their plans on grown tables, which must stay
 * index-bound.
 */
export const RECOVERY_QUERIES: Record<string, { text: string; values: unknown[] }> = {
  claimAbandoned: { text: CLAIM_ABANDONED, values: [20, 30000] },
  claimUncommittedStock: { text: CLAIM_UNCOMMITTED_STOCK, values: [20, 30000] },
  claimChargeRechecks: { text: CLAIM_CHARGE_RECHECKS, values: [20, 30000] },
  claimUnreleasedStock: { text: CLAIM_UNRELEASED_STOCK, values: [20, 30000] },
  countUnsettled: { text: COUNT_UNSETTLED, values: [30000] },
  purgeKeys: { text: PURGE_KEYS, values: [24] },
  purgeWebhookEvents: { text: PURGE_WEBHOOK_EVENTS, values: [30] },
};

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

  /**
   * Records a new attempt for the cart if it is open and holds items (linking it to `keyName` of the
   * user's idempotency keys, when given); otherwise says why not.
   */
  async start(
    tx: Queryable,
    attempt: { id: string; userId: string; cartId: string; keyName: string | null },
  ): Promise<StartResult> {
    const result = await tx.query<{
      status: 'open' | 'checked_out' | null;
      changed: boolean;
      line_count: number;
      within_limit: boolean;
      amount_cents: number;
      currency: string;
      items: LineItem[];
      started: boolean;
      started_at: Date;
    }>({ name: 'attempt_start', text: START }, [
      attempt.userId,
      attempt.cartId,
      attempt.id,
      this.#leaseMs,
      attempt.keyName,
      CART_LIMITS.maxTotalCents,
    ]);
    const row = result.rows[0];
    if (!row?.status) return { started: false, reason: 'cart_not_found' };
    if (row.status === 'checked_out') return { started: false, reason: 'cart_checked_out' };
    if (row.changed) return { started: false, reason: 'cart_changed' };
    if (row.line_count === 0) return { started: false, reason: 'cart_empty' };
    if (!row.within_limit) return { started: false, reason: 'cart_limit_exceeded' };
    return {
      started: true,
      attempt: {
        id: attempt.id,
        userId: attempt.userId,
        cartId: attempt.cartId,
        phase: 'started',
        amountCents: row.amount_cents,
        currency: row.currency,
        items: row.items,
        chargeId: null,
        stockCommitted: false,
        // The row's created_at: the statement's now().
        startedAt: row.started_at,
      },
    };
  }

  /**
   * Fails an attempt that is not paid for; false when it had moved on (completed, failed, or charged).
   * With `recheckChargeAfterMs`, recovery looks once more at that time for a charge that landed late;
   * with `releasePending`, its stock is still to be released (until `stockReleased`).
   */
  async fail(
    id: string,
    errorCode: string,
    recheckChargeAfterMs?: number,
    releasePending = false,
  ): Promise<boolean> {
    const result = await this.#db.query({ name: 'attempt_fail', text: FAIL }, [
      id,
      errorCode,
      recheckChargeAfterMs ?? null,
      releasePending,
    ]);
    return result.rowCount === 1;
  }

  /** The stock of a failed attempt is back at the inventory. */
  async stockReleased(id: string): Promise<void> {
    await this.#db.query('UPDATE checkout_attempts SET stock_release_pending = false WHERE id = $1', [id]);
  }

  /** Failed attempts whose stock release failed, their lease over: recovery releases it. */
  async claimUnreleasedStock(limit: number): Promise<Attempt[]> {
    return this.#claim(CLAIM_UNRELEASED_STOCK, limit);
  }

  /** Attempts whose reserved stock inventory has sold. */
  async markStockCommitted(ids: readonly string[]): Promise<void> {
    await this.#db.query({ name: 'attempt_stock_committed', text: STOCK_COMMITTED }, [ids]);
  }

  /** Takes over an unfinished attempt whose lease has run out (its worker died); undefined if someone holds it. */
  async takeOver(tx: Queryable, id: string): Promise<Attempt | undefined> {
    const result = await tx.query<AttemptRow>(
      `UPDATE checkout_attempts SET locked_until = now() + make_interval(secs => $2::double precision / 1000),
         answered_unknown_at = NULL, payment_notified_at = NULL
       WHERE id = $1 AND ${UNFINISHED} AND locked_until < now() RETURNING *`,
      [id, this.#leaseMs],
    );
    const row = result.rows[0];
    return row ? fromRow(row) : undefined;
  }

  /** For recovery: unfinished attempts past their lease (their worker is gone). */
  async claimAbandoned(limit: number): Promise<Attempt[]> {
    return this.#claim(CLAIM_ABANDONED, limit);
  }

  /** Completed attempts whose reservation was not committed in their own time (the inventory was down). */
  async claimUncommittedStock(limit: number): Promise<Attempt[]> {
    return this.#claim(CLAIM_UNCOMMITTED_STOCK, limit);
  }

  /** Failed attempts due a second look for a charge that landed late. */
  async claimChargeRechecks(limit: number): Promise<Attempt[]> {
    return this.#claim(CLAIM_CHARGE_RECHECKS, limit);
  }

  async #claim(query: string, limit: number): Promise<Attempt[]> {
    const result = await this.#db.query<AttemptRow>(query, [limit, this.#leaseMs]);
    return result.rows.map(fromRow);
  }

  /**
   * Attempts not settled (completed with their stock sold, or failed with their stock given back) whose
   * phase has not moved for a lease.
   */
  async countUnsettled(): Promise<number> {
    const result = await this.#db.query<{ count: string }>(COUNT_UNSETTLED, [this.#leaseMs]);
    return Number(result.rows[0]?.count ?? 0);
  }

  /**
   * A webhook's notice of an open attempt's payment (see NOTICE): the attempt, and whether the caller
   * now holds it; undefined when it is not open.
   */
  async notice(id: string): Promise<{ attempt: Attempt; claimed: boolean } | undefined> {
    const result = await this.#db.query<AttemptRow & { claimed: boolean }>(NOTICE, [id, this.#leaseMs]);
    const row = result.rows[0];
    return row ? { attempt: fromRow(row), claimed: row.claimed } : undefined;
  }

  /**
   * The request answers without an outcome: true when it gave the attempt up for a later notice to take
   * over; false when a notice came first (or the attempt moved on), for the request to settle it now.
   */
  async answeredUnknown(id: string): Promise<boolean> {
    return (await this.#db.query(ANSWERED_UNKNOWN, [id])).rowCount === 1;
  }

  async find(id: string): Promise<Attempt | undefined> {
    const result = await this.#db.query<AttemptRow>('SELECT * FROM checkout_attempts WHERE id = $1', [id]);
    const row = result.rows[0];
    return row ? fromRow(row) : undefined;
  }

  /** The order an attempt made, if it made one (whoever made it: its request, a retry, recovery, a webhook). */
  async orderOf(id: string): Promise<{ orderId: string; chargeId: string } | undefined> {
    const result = await this.#db.query<{ id: string; charge_id: string }>(
      'SELECT id, charge_id FROM orders WHERE attempt_id = $1',
      [id],
    );
    const row = result.rows[0];
    return row ? { orderId: row.id, chargeId: row.charge_id } : undefined;
  }

  async chargeRechecked(id: string): Promise<void> {
    await this.#db.query('UPDATE checkout_attempts SET recheck_charge_after = NULL WHERE id = $1', [id]);
  }

  /** The last step (see COMPLETE); false when the attempt had moved on. */
  async complete(
    attempt: Attempt,
    chargeId: string,
    orderId: string,
    outcome: StoredOutcome,
  ): Promise<boolean> {
    const result = await this.#db.query<{ moved: number }>({ name: 'attempt_complete', text: COMPLETE }, [
      attempt.id,
      chargeId,
      orderId,
      outcome.status,
      outcome.body,
    ]);
    return result.rows[0]?.moved === 1;
  }
}
