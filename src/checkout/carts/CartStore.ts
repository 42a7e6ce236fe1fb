import type { Database, Queryable } from '../../platform/database/Database.ts';
import { isUuid } from '../ids.ts';
import { type CartLimit, limitPassed } from './cartLimits.ts';

export interface CartLine {
  sku: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
  lineTotalCents: number;
}

export interface Cart {
  cartId: string;
  status: 'open' | 'checked_out';
  currency: string;
  items: CartLine[];
  totalCents: number;
}

export type AddItemOutcome =
  | 'added'
  | 'cart_not_found'
  | 'cart_closed'
  | 'checkout_in_progress'
  | 'unknown_sku'
  | { limitPassed: CartLimit };

/**
 * The cart as it would be after the add: its lines, the added product's units, and its total (in floating
 * point, exact far past any total a cart can reach, so that no sum overflows on the way to the check).
 */
const CART_AFTER_ADD = `SELECT
    (SELECT count(*)::int FROM cart_items WHERE cart_id = $1 AND sku <> $2) + 1 AS lines,
    coalesce((SELECT quantity FROM cart_items WHERE cart_id = $1 AND sku = $2), 0) + $3::int AS line_quantity,
    (SELECT coalesce(sum(i.quantity::float8 * p.price_cents), 0)
       FROM cart_items i JOIN products p ON p.sku = i.sku WHERE i.cart_id = $1)
      + $3::float8 * $4::int AS total_cents`;

/** Carts and their items. Every read is scoped to the owner: someone else's cart does not exist. */
export class CartStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async create(userId: string): Promise<string> {
    const result = await this.#db.query<{ id: string }>(
      'INSERT INTO carts (user_id) VALUES ($1) RETURNING id',
      [userId],
    );
    return (result.rows[0] as { id: string }).id;
  }

  async find(cartId: string, userId: string, db: Queryable = this.#db): Promise<Cart | undefined> {
    if (!isUuid(cartId)) return undefined;
    const cart = await db.query<{ status: Cart['status'] }>(
      'SELECT status FROM carts WHERE id = $1 AND user_id = $2',
      [cartId, userId],
    );
    const row = cart.rows[0];
    if (!row) return undefined;
    const lines = await db.query<{
      sku: string;
      name: string;
      quantity: number;
      price_cents: number;
      currency: string;
    }>(
      `SELECT i.sku, p.name, i.quantity, p.price_cents, p.currency
       FROM cart_items i JOIN products p ON p.sku = i.sku WHERE i.cart_id = $1 ORDER BY i.sku`,
      [cartId],
    );
    const items = lines.rows.map((l) => ({
      sku: l.sku,
      name: l.name,
      quantity: l.quantity,
      unitPriceCents: l.price_cents,
      lineTotalCents: l.price_cents * l.quantity,
    }));
    return {
      cartId,
      status: row.status,
      currency: lines.rows[0]?.currency ?? 'usd',
      items,
      totalCents: items.reduce((sum, line) => sum + line.lineTotalCents, 0),
    };
  }

  /** Adds `quantity` units of `sku` (on top of any already there). Reserves nothing: checkout does. */
  async addItem(cartId: string, userId: string, sku: string, quantity: number): Promise<AddItemOutcome> {
    if (!isUuid(cartId)) return 'cart_not_found';
    return this.#db.transaction(async (tx) => {
      const cart = await tx.query<{ status: string }>(
        'SELECT status FROM carts WHERE id = $1 AND user_id = $2 FOR UPDATE',
        [cartId, userId],
      );
      const status = cart.rows[0]?.status;
      if (!status) return 'cart_not_found';
      if (status !== 'open') return 'cart_closed';
      // A checkout under way charges for the lines it read: an item added now would be in the cart it
      // closes but not in its order. (The attempt's statement locks the cart too, so this sees it.)
      const live = await tx.query(
        `SELECT 1 FROM checkout_attempts WHERE cart_id = $1 AND phase NOT IN ('completed', 'failed')`,
        [cartId],
      );
      if ((live.rowCount ?? 0) > 0) return 'checkout_in_progress';
      const product = await tx.query<{ price_cents: number }>(
        'SELECT price_cents FROM products WHERE sku = $1',
        [sku],
      );
      const price = product.rows[0]?.price_cents;
      if (price === undefined) return 'unknown_sku';
      const after = await tx.query<{ lines: number; line_quantity: number; total_cents: number }>(
        CART_AFTER_ADD,
        [cartId, sku, quantity, price],
      );
      const row = after.rows[0] as { lines: number; line_quantity: number; total_cents: number };
      const passed = limitPassed({
        lines: row.lines,
        lineQuantity: row.line_quantity,
        totalCents: row.total_cents,
      });
      if (passed) return { limitPassed: passed };
      await tx.query(
        `INSERT INTO cart_items (cart_id, sku, quantity) VALUES ($1, $2, $3)
         ON CONFLICT (cart_id, sku) DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity`,
        [cartId, sku, quantity],
      );
      await tx.query('UPDATE carts SET updated_at = now() WHERE id = $1', [cartId]);
      return 'added';
    });
  }
}
