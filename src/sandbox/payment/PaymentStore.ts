import { createHash, randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../../platform/database/Database.ts';
import {
  chargeObject,
  type EventType,
  errorObject,
  type LastPaymentError,
  listObject,
  type PaymentIntentRow,
  paymentIntentObject,
  type RefundRow,
  refundObject,
} from './stripeObjects.ts';

/**
 * Stripe's test payment methods the sandbox knows, and what confirming with each does; anything else is
 * no such payment method. A Map, not an object: `__proto__` or `constructor` as a payment method would
 * find what every object inherits, and charge with no outcome.
 */
const TEST_PAYMENT_METHODS = new Map<string, { declineCode?: string }>([
  ['pm_card_visa', {}],
  ['pm_card_mastercard', {}],
  ['pm_card_chargeDeclined', { declineCode: 'generic_decline' }],
  ['pm_card_visa_chargeDeclined', { declineCode: 'generic_decline' }],
  ['pm_card_chargeDeclinedInsufficientFunds', { declineCode: 'insufficient_funds' }],
  ['pm_card_visa_chargeDeclinedInsufficientFunds', { declineCode: 'insufficient_funds' }],
]);

/** Stripe keeps an idempotency key this long; after it, the key is new again. */
const KEY_RETENTION = '24 hours';

export interface GatewayAnswer {
  statusCode: number;
  body: Record<string, unknown>;
  /** True when the answer is the stored one of an earlier request with the same key (`Idempotent-Replayed`). */
  replayed?: boolean;
}

export interface PaymentIntentCreate {
  amount: number;
  currency: string;
  payment_method: string;
  confirm: boolean;
  metadata?: Record<string, string> | undefined;
}

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * The start of `text`, cut between code points: a cut between the two halves of a surrogate pair would
 * leave one alone, which the stored answer's `jsonb` refuses.
 */
export function firstCodePoints(text: string, count: number): string {
  return Array.from(text).slice(0, count).join('');
}

/** Canonical JSON (keys sorted at every depth): the same parameters hash the same in any order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A page of a list, newest first, as Stripe lists: `limit`, `starting_after`, and the filters given. */
export interface ListQuery {
  limit: number;
  startingAfter?: string | undefined;
  createdGte?: number | undefined;
  createdLte?: number | undefined;
}

/**
 * PaymentIntents, refunds and idempotency keys of the payment sandbox. Each answer to a request with an
 * `Idempotency-Key` is stored with its key in the transaction that did the work.
 */
export class PaymentStore {
  readonly #db: Database;
  readonly #recordsEvents: boolean;

  /** `recordsEvents`: write an event of each payment and refund, for the webhook endpoint (when there is one). */
  constructor(db: Database, options: { recordsEvents?: boolean } = {}) {
    this.#db = db;
    this.#recordsEvents = options.recordsEvents ?? false;
  }

  /** `requestParams`: the request's parameters as sent, which a replay must match (`params` by default). */
  async createPaymentIntent(
    params: PaymentIntentCreate,
    idempotencyKey: string | undefined,
    requestParams: unknown = params,
  ): Promise<GatewayAnswer> {
    return this.#idempotent('POST /v1/payment_intents', idempotencyKey, requestParams, async (tx) => {
      const method = TEST_PAYMENT_METHODS.get(params.payment_method);
      if (!method) {
        return {
          statusCode: 400,
          body: errorObject({
            type: 'invalid_request_error',
            code: 'resource_missing',
            param: 'payment_method',
            message: `No such PaymentMethod: '${firstCodePoints(params.payment_method, 64)}'`,
          }),
        };
      }
      const id = newId('pi');
      const charge = params.confirm ? newId('ch') : null;
      const declined: LastPaymentError | null =
        charge && method.declineCode
          ? {
              type: 'card_error',
              code: 'card_declined',
              decline_code: method.declineCode,
              charge,
              message: 'Your card was declined.',
            }
          : null;
      const status = !params.confirm
        ? 'requires_confirmation'
        : declined
          ? 'requires_payment_method'
          : 'succeeded';
      const row = (
        await tx.query<PaymentIntentRow>(
          `INSERT INTO payment_intents
             (id, amount, currency, status, payment_method, latest_charge, last_payment_error, metadata)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
          [
            id,
            params.amount,
            params.currency,
            status,
            params.payment_method,
            charge,
            declined,
            params.metadata ?? {},
          ],
        )
      ).rows[0] as PaymentIntentRow;
      const intent = paymentIntentObject(row);
      if (params.confirm) {
        const type = declined ? 'payment_intent.payment_failed' : 'payment_intent.succeeded';
        await this.#recordEvent(tx, type, intent, idempotencyKey);
      }
      if (!declined) return { statusCode: 200, body: intent };
      return { statusCode: 402, body: errorObject({ ...declined, payment_intent: intent }) };
    });
  }

  async refund(paymentIntentId: string, idempotencyKey: string | undefined): Promise<GatewayAnswer> {
    const params = { payment_intent: paymentIntentId };
    return this.#idempotent('POST /v1/refunds', idempotencyKey, params, async (tx) => {
      const intent = (
        await tx.query<PaymentIntentRow>('SELECT * FROM payment_intents WHERE id = $1 FOR UPDATE', [
          paymentIntentId,
        ])
      ).rows[0];
      if (!intent) {
        return {
          statusCode: 404,
          body: errorObject({
            type: 'invalid_request_error',
            code: 'resource_missing',
            param: 'payment_intent',
            message: `No such payment_intent: '${firstCodePoints(paymentIntentId, 64)}'`,
          }),
        };
      }
      if (intent.status !== 'succeeded' || !intent.latest_charge) {
        return {
          statusCode: 400,
          body: errorObject({
            type: 'invalid_request_error',
            code: 'charge_not_refundable',
            message: `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
          }),
        };
      }
      const existing = (
        await tx.query<RefundRow>('SELECT * FROM refunds WHERE payment_intent_id = $1', [paymentIntentId])
      ).rows[0];
      if (existing) {
        return {
          statusCode: 400,
          body: errorObject({
            type: 'invalid_request_error',
            code: 'charge_already_refunded',
            message: `Charge ${intent.latest_charge} has already been refunded.`,
          }),
        };
      }
      const row = (
        await tx.query<RefundRow>(
          `INSERT INTO refunds (id, payment_intent_id, charge_id, amount, currency)
           VALUES ($1, $2, $3, $4, $5) RETURNING *`,
          [newId('re'), intent.id, intent.latest_charge, intent.amount, intent.currency],
        )
      ).rows[0] as RefundRow;
      await this.#recordEvent(tx, 'charge.refunded', chargeObject(intent, true), idempotencyKey);
      return { statusCode: 200, body: refundObject(row) };
    });
  }

  async paymentIntent(id: string) {
    const row = (await this.#db.query<PaymentIntentRow>('SELECT * FROM payment_intents WHERE id = $1', [id]))
      .rows[0];
    return row ? paymentIntentObject(row) : undefined;
  }

  /** PaymentIntents newest first, a page at a time, optionally only those created in a window. */
  async listPaymentIntents(query: ListQuery) {
    const rows = await this.#db.query<PaymentIntentRow>(
      `SELECT * FROM payment_intents
       WHERE ($1::text IS NULL OR (created_at, id) < (SELECT created_at, id FROM payment_intents WHERE id = $1))
         AND ($2::bigint IS NULL OR created_at >= to_timestamp($2))
         AND ($3::bigint IS NULL OR created_at < to_timestamp($3 + 1))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [query.startingAfter ?? null, query.createdGte ?? null, query.createdLte ?? null, query.limit + 1],
    );
    return listObject(
      '/v1/payment_intents',
      rows.rows.slice(0, query.limit).map(paymentIntentObject),
      rows.rows.length > query.limit,
    );
  }

  /** Refunds newest first, a page at a time, optionally only those of one PaymentIntent. */
  async listRefunds(query: ListQuery & { paymentIntent?: string | undefined }) {
    const rows = await this.#db.query<RefundRow>(
      `SELECT * FROM refunds
       WHERE ($1::text IS NULL OR (created_at, id) < (SELECT created_at, id FROM refunds WHERE id = $1))
         AND ($2::text IS NULL OR payment_intent_id = $2)
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [query.startingAfter ?? null, query.paymentIntent ?? null, query.limit + 1],
    );
    return listObject(
      '/v1/refunds',
      rows.rows.slice(0, query.limit).map(refundObject),
      rows.rows.length > query.limit,
    );
  }

  /** An event of what `tx` did, sent once it commits (see the events table's migration). */
  async #recordEvent(
    tx: Queryable,
    type: EventType,
    object: Record<string, unknown>,
    idempotencyKey: string | undefined,
  ): Promise<void> {
    if (!this.#recordsEvents) return;
    await tx.query('INSERT INTO events (id, type, object, idempotency_key) VALUES ($1, $2, $3, $4)', [
      newId('evt'),
      type,
      object,
      idempotencyKey ?? null,
    ]);
  }

  /**
   * Stripe's idempotency: the first answer to a key is stored and replayed to a request with the same
   * key and the same parameters; other parameters, or another endpoint, are an `idempotency_error`; a key
   * is kept 24 hours. The key row is inserted first, so a concurrent request with the same key waits for
   * the first to commit and then replays its answer instead of charging again.
   */
  async #idempotent(
    endpoint: string,
    key: string | undefined,
    params: unknown,
    work: (tx: Queryable) => Promise<GatewayAnswer>,
  ): Promise<GatewayAnswer> {
    if (!key) return this.#db.transaction(work);
    const hash = createHash('sha256').update(canonical(params)).digest('hex');
    return this.#db.transaction(async (tx) => {
      await tx.query(
        `DELETE FROM idempotency_keys WHERE key = $1 AND created_at < now() - interval '${KEY_RETENTION}'`,
        [key],
      );
      const claimed = await tx.query(
        `INSERT INTO idempotency_keys (key, endpoint, request_hash, status_code, response_body)
         VALUES ($1, $2, $3, 0, '{}') ON CONFLICT DO NOTHING`,
        [key, endpoint, hash],
      );
      if (claimed.rowCount === 0) return this.#replay(tx, key, endpoint, hash);
      const answer = await work(tx);
      await tx.query('UPDATE idempotency_keys SET status_code = $2, response_body = $3 WHERE key = $1', [
        key,
        answer.statusCode,
        answer.body,
      ]);
      return answer;
    });
  }

  async #replay(tx: Queryable, key: string, endpoint: string, hash: string): Promise<GatewayAnswer> {
    const stored = (
      await tx.query<{
        endpoint: string;
        request_hash: string;
        status_code: number;
        response_body: Record<string, unknown>;
      }>('SELECT endpoint, request_hash, status_code, response_body FROM idempotency_keys WHERE key = $1', [
        key,
      ])
    ).rows[0];
    const shown = firstCodePoints(key, 64);
    if (stored && stored.endpoint !== endpoint) {
      return {
        statusCode: 400,
        body: errorObject({
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${stored.endpoint}' vs '${endpoint}'). Try using a key other than '${shown}' if you meant to execute a different request.`,
        }),
      };
    }
    if (!stored || stored.request_hash !== hash) {
      return {
        statusCode: 400,
        body: errorObject({
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${shown}' if you meant to execute a different request.`,
        }),
      };
    }
    return { statusCode: stored.status_code, body: stored.response_body, replayed: true };
  }
}
