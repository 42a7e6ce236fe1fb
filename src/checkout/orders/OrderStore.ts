import type { Database } from '../../platform/database/Database.ts';
import { isUuid } from '../ids.ts';

export interface Order {
  orderId: string;
  status: string;
  cartId: string;
  transactionId: string;
  amountCents: number;
  currency: string;
  items: { sku: string; quantity: number }[];
  createdAt: string;
}

interface OrderRow {
  id: string;
  status: string;
  cart_id: string;
  charge_id: string;
  amount_cents: number;
  currency: string;
  items: { sku: string; quantity: number }[];
  created_at: Date;
}

/** Confirmed orders, read by their owner only: someone else's order does not exist. (The checkout flow writes them.) */
export class OrderStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** The order a payment paid for (its `transactionId`), if one did. */
  async byCharge(chargeId: string): Promise<{ orderId: string; attemptId: string } | undefined> {
    const result = await this.#db.query<{ id: string; attempt_id: string }>(
      'SELECT id, attempt_id FROM orders WHERE charge_id = $1',
      [chargeId],
    );
    const row = result.rows[0];
    return row ? { orderId: row.id, attemptId: row.attempt_id } : undefined;
  }

  async find(orderId: string, userId: string): Promise<Order | undefined> {
    if (!isUuid(orderId)) return undefined;
    const result = await this.#db.query<OrderRow>(
      'SELECT id, status, cart_id, charge_id, amount_cents, currency, items, created_at FROM orders WHERE id = $1 AND user_id = $2',
      [orderId, userId],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return {
      orderId: row.id,
      status: row.status,
      cartId: row.cart_id,
      transactionId: row.charge_id,
      amountCents: row.amount_cents,
      currency: row.currency,
      items: row.items,
      createdAt: row.created_at.toISOString(),
    };
  }
}
