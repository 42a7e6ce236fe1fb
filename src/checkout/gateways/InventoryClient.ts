import type { HttpDependency } from '../../platform/dependency/HttpDependency.ts';

export interface LineItem {
  sku: string;
  quantity: number;
}

/**
 * `insufficient`: a SKU is short. `settled`: this reservation id was already released, expired or
 * committed (someone else, recovery most likely, settled the attempt): it cannot hold stock again.
 */
export type ReserveResult =
  | { outcome: 'reserved' }
  | { outcome: 'insufficient'; sku: string }
  | { outcome: 'settled'; status: string };

/** The inventory service, reached through its own breaker, timeout and bulkhead. */
export class InventoryClient {
  readonly #http: HttpDependency;

  constructor(http: HttpDependency) {
    this.#http = http;
  }

  /**
   * Idempotent by reservation id: a second call answers the first one's reservation, as it is now.
   * `userId`, whom the stock is for: the inventory's 5xx answers to one user alone never open its breaker.
   */
  async reserve(
    reservationId: string,
    items: LineItem[],
    ttlSeconds: number,
    userId?: string,
  ): Promise<ReserveResult> {
    const response = await this.#http.request<{ status?: string; sku?: string; error?: string }>(
      'POST',
      '/reservations',
      { caller: userId, body: { reservationId, items, ttlSeconds } },
    );
    if (response.status === 201 && response.body.status === 'reserved') return { outcome: 'reserved' };
    if (response.status === 201) return { outcome: 'settled', status: response.body.status ?? 'unknown' };
    if (response.status === 409)
      return { outcome: 'insufficient', sku: response.body.sku ?? items[0]?.sku ?? '' };
    throw unexpected('reserve', response.status);
  }

  /** Commits many reservations at once; answers the ids committed now (those committed before included). */
  async commitMany(reservationIds: string[]): Promise<string[]> {
    const response = await this.#http.request<{ committed: string[] }>('POST', '/reservations/commit', {
      body: { reservationIds },
    });
    if (response.status !== 200) throw unexpected('commit', response.status);
    return response.body.committed;
  }

  async stockLevels(): Promise<StockLevel[]> {
    const response = await this.#http.request<StockLevel[]>('GET', '/stock');
    if (response.status !== 200) throw unexpected('stock', response.status);
    return response.body;
  }

  /** Every reservation the inventory holds in `status`, page by page (for reconciliation). */
  async *reservations(status: 'reserved' | 'committed'): AsyncGenerator<HeldReservation> {
    let after: string | null = null;
    do {
      const query = new URLSearchParams({ status, limit: String(RESERVATION_PAGE) });
      if (after) query.set('after', after);
      const response = await this.#http.request<{ reservations: HeldReservation[]; next: string | null }>(
        'GET',
        `/reservations?${query}`,
      );
      if (response.status !== 200) throw unexpected('reservations', response.status);
      yield* response.body.reservations;
      after = response.body.next;
    } while (after);
  }

  /** Gives the stock back. Releasing twice, or an id never reserved, is fine. */
  async release(reservationId: string): Promise<void> {
    const response = await this.#http.request(
      'POST',
      `/reservations/${encodeURIComponent(reservationId)}/release`,
    );
    if (response.status !== 200) throw unexpected('release', response.status);
  }
}

/** How many reservations one page of `GET /reservations` brings. */
const RESERVATION_PAGE = 500;

/** A reservation as the inventory lists it; its id is the checkout attempt's that made it. */
export interface HeldReservation {
  reservationId: string;
  status: string;
  expiresAt: string;
  items: LineItem[];
}

export interface StockLevel {
  sku: string;
  initial: number;
  available: number;
  reserved: number;
  sold: number;
}

function unexpected(operation: string, status: number): Error {
  return new Error(`inventory ${operation} answered ${status}`);
}
