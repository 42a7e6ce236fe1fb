import type { Database } from '../../platform/database/Database.ts';

export interface StockLevel {
  sku: string;
  /** Every unit ever received: always available + reserved + sold. */
  initial: number;
  available: number;
  reserved: number;
  sold: number;
}

export interface ReservationItem {
  sku: string;
  quantity: number;
}

export const RESERVATION_STATUSES = ['reserved', 'committed', 'released', 'expired'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** A reservation as `GET /reservations` lists it: what it holds, and until when. */
export interface ReservationView {
  reservationId: string;
  status: ReservationStatus;
  expiresAt: string;
  items: ReservationItem[];
}

export type ReserveOutcome =
  | { ok: true; status: ReservationStatus; expiresAt: string }
  | { ok: false; sku: string; reason: 'insufficient' | 'unknown_sku' };

export type TransitionOutcome =
  | { ok: true; status: ReservationStatus }
  | { ok: false; status: ReservationStatus | 'unknown' };

const STOCK_COLUMNS = 'sku, initial, available, reserved, sold';

/** Units a SKU may ever receive: its counts are PostgreSQL `integer`s, and `initial` is the largest. */
export const MAX_UNITS_PER_SKU = 2 ** 31 - 1;

/** The SQLSTATE `reserve_stock` raises when a SKU is unknown or short (migration 0002). */
const RESERVE_REFUSED = 'SF001';

/** Stock and reservations, every movement in one transaction so `initial = available + reserved + sold` holds. */
export class StockStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async list(): Promise<StockLevel[]> {
    return (await this.#db.query<StockLevel>(`SELECT ${STOCK_COLUMNS} FROM stock ORDER BY sku`)).rows;
  }

  async get(sku: string): Promise<StockLevel | undefined> {
    return (await this.#db.query<StockLevel>(`SELECT ${STOCK_COLUMNS} FROM stock WHERE sku = $1`, [sku]))
      .rows[0];
  }

  /**
   * Adds units to a SKU (creating it): a delivery from the warehouse. Undefined, and nothing changed, when
   * the SKU would then have received more than MAX_UNITS_PER_SKU.
   */
  async restock(sku: string, quantity: number): Promise<StockLevel | undefined> {
    const result = await this.#db.query<StockLevel>(
      `INSERT INTO stock (sku, initial, available) VALUES ($1, $2, $2)
       ON CONFLICT (sku) DO UPDATE SET initial = stock.initial + $2, available = stock.available + $2, updated_at = now()
       WHERE stock.initial + $2::bigint <= $3
       RETURNING ${STOCK_COLUMNS}`,
      [sku, quantity, MAX_UNITS_PER_SKU],
    );
    return result.rows[0];
  }

  /**
   * Up to `limit` reservations of one status in id order, after the id `after`: a page, so that a
   * reconciliation can walk them all without one answer growing with the history.
   */
  async listReservations(
    status: ReservationStatus,
    after: string,
    limit: number,
  ): Promise<ReservationView[]> {
    const result = await this.#db.query<{
      id: string;
      status: ReservationStatus;
      expires_at: Date;
      items: ReservationItem[] | null;
    }>(
      `SELECT r.id, r.status, r.expires_at,
              (SELECT jsonb_agg(jsonb_build_object('sku', i.sku, 'quantity', i.quantity) ORDER BY i.sku)
               FROM reservation_items i WHERE i.reservation_id = r.id) AS items
       FROM reservations r WHERE r.status = $1 AND r.id > $2 ORDER BY r.id LIMIT $3`,
      [status, after, limit],
    );
    return result.rows.map((row) => ({
      reservationId: row.id,
      status: row.status,
      expiresAt: row.expires_at.toISOString(),
      items: row.items ?? [],
    }));
  }

  /**
   * Idempotent by reservation id: a second call returns the first one's state, whatever it is now
   * (a released id stays released, so a late retry cannot take stock again).
   */
  async reserve(id: string, items: ReservationItem[], ttlSeconds: number): Promise<ReserveOutcome> {
    try {
      const result = await this.#db.query<{ status: ReservationStatus; expires_at: Date | null }>(
        { name: 'reserve_stock', text: 'SELECT status, expires_at FROM reserve_stock($1, $2, $3)' },
        [id, JSON.stringify(items), ttlSeconds],
      );
      const row = result.rows[0];
      return { ok: true, status: row?.status ?? 'released', expiresAt: row?.expires_at?.toISOString() ?? '' };
    } catch (error) {
      const refusal = error as { code?: string; message?: string; detail?: string };
      if (refusal.code !== RESERVE_REFUSED) throw error;
      return {
        ok: false,
        sku: refusal.detail ?? '',
        reason: refusal.message === 'unknown_sku' ? 'unknown_sku' : 'insufficient',
      };
    }
  }

  /**
   * Reserved units become sold. Committing twice is a no-op; a released reservation cannot be
   * committed. An expired one (its checkout was paid but finished late) takes its units from what is
   * available now, or is refused if there are not enough.
   */
  async commit(id: string): Promise<TransitionOutcome> {
    const outcome = await this.#transition(
      id,
      'committed',
      'reserved = reserved - i.quantity, sold = sold + i.quantity',
    );
    if (outcome.ok || outcome.status !== 'expired') return outcome;
    return this.#db
      .transaction(async (tx) => {
        const current = await tx.query<{ status: ReservationStatus }>(
          'SELECT status FROM reservations WHERE id = $1 FOR UPDATE',
          [id],
        );
        if (current.rows[0]?.status !== 'expired')
          return {
            ok: current.rows[0]?.status === 'committed',
            status: current.rows[0]?.status ?? 'unknown',
          } as TransitionOutcome;
        const items = await tx.query<ReservationItem>(
          'SELECT sku, quantity FROM reservation_items WHERE reservation_id = $1 ORDER BY sku',
          [id],
        );
        for (const item of items.rows) {
          const taken = await tx.query(
            'UPDATE stock SET available = available - $2, sold = sold + $2, updated_at = now() WHERE sku = $1 AND available >= $2',
            [item.sku, item.quantity],
          );
          if (taken.rowCount === 0) throw new Refusal(item.sku, 'insufficient');
        }
        await tx.query(`UPDATE reservations SET status = 'committed', updated_at = now() WHERE id = $1`, [
          id,
        ]);
        return { ok: true, status: 'committed' } as TransitionOutcome;
      })
      .catch((error: unknown) => {
        if (error instanceof Refusal) return { ok: false, status: 'expired' } as TransitionOutcome;
        throw error;
      });
  }

  /**
   * Commits many reservations in one transaction (a checkout instance sends those of its last few
   * orders together). Returns the ids that are committed now, those committed before included; an
   * expired one goes through `commit` alone, a released or unknown one is left out.
   */
  async commitMany(ids: string[]): Promise<string[]> {
    const expired = await this.#db.transaction(async (tx) => {
      const due = await tx.query<{ id: string; status: ReservationStatus }>(
        'SELECT id, status FROM reservations WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE',
        [ids],
      );
      const reserved = due.rows.filter((r) => r.status === 'reserved').map((r) => r.id);
      if (reserved.length > 0) {
        // Stock rows locked in SKU order, as `reserve` takes them: the two never wait on each other in a cycle.
        await tx.query(
          `SELECT 1 FROM stock WHERE sku IN (SELECT sku FROM reservation_items WHERE reservation_id = ANY($1::text[]))
           ORDER BY sku FOR UPDATE`,
          [reserved],
        );
        await tx.query(
          `UPDATE stock s SET reserved = s.reserved - t.quantity, sold = s.sold + t.quantity, updated_at = now()
           FROM (SELECT sku, sum(quantity)::int AS quantity FROM reservation_items
                 WHERE reservation_id = ANY($1::text[]) GROUP BY sku) t
           WHERE s.sku = t.sku`,
          [reserved],
        );
        await tx.query(
          `UPDATE reservations SET status = 'committed', updated_at = now() WHERE id = ANY($1::text[])`,
          [reserved],
        );
      }
      return due.rows.filter((r) => r.status === 'expired').map((r) => r.id);
    });
    for (const id of expired) await this.commit(id);
    const committed = await this.#db.query<{ id: string }>(
      `SELECT id FROM reservations WHERE id = ANY($1::text[]) AND status = 'committed'`,
      [ids],
    );
    return committed.rows.map((r) => r.id);
  }

  /** Reserved units become available again. A release of an unknown id leaves a tombstone, so a late reserve fails. */
  async release(id: string): Promise<TransitionOutcome> {
    await this.#db.query(
      `INSERT INTO reservations (id, status, expires_at) VALUES ($1, 'released', now()) ON CONFLICT (id) DO NOTHING`,
      [id],
    );
    return this.#transition(
      id,
      'released',
      'reserved = reserved - i.quantity, available = available + i.quantity',
    );
  }

  /** Returns the stock of reservations past their expiry; safe to run from many processes at once. */
  async expireDue(limit = 100): Promise<number> {
    return this.#db.transaction(async (tx) => {
      const due = await tx.query<{ id: string }>(
        `SELECT id FROM reservations WHERE status = 'reserved' AND expires_at < now()
         ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      for (const { id } of due.rows)
        await this.#move(
          tx,
          id,
          'expired',
          'reserved = reserved - i.quantity, available = available + i.quantity',
        );
      return due.rowCount ?? 0;
    });
  }

  async #transition(id: string, target: ReservationStatus, movement: string): Promise<TransitionOutcome> {
    return this.#db.transaction(async (tx) => {
      const current = await tx.query<{ status: ReservationStatus }>(
        'SELECT status FROM reservations WHERE id = $1 FOR UPDATE',
        [id],
      );
      const status = current.rows[0]?.status;
      if (!status) return { ok: false, status: 'unknown' };
      if (status === target) return { ok: true, status };
      if (status !== 'reserved') return { ok: false, status };
      await this.#move(tx, id, target, movement);
      return { ok: true, status: target };
    });
  }

  async #move(
    tx: Parameters<Parameters<Database['transaction']>[0]>[0],
    id: string,
    target: ReservationStatus,
    movement: string,
  ) {
    await tx.query(
      `UPDATE stock s SET ${movement}, updated_at = now()
       FROM reservation_items i WHERE i.reservation_id = $1 AND i.sku = s.sku`,
      [id],
    );
    await tx.query('UPDATE reservations SET status = $2, updated_at = now() WHERE id = $1', [id, target]);
  }
}

class Refusal extends Error {
  readonly sku: string;
  readonly reason: 'insufficient' | 'unknown_sku';
  constructor(sku: string, reason: 'insufficient' | 'unknown_sku') {
    super(`${reason}: ${sku}`);
    this.sku = sku;
    this.reason = reason;
  }
}
