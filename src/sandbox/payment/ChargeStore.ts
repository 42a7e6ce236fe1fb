import { createHash, randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../../platform/database/Database.ts';

/**
 * Test tokens, as Stripe's: anything else is an unknown token. A Map, not an object: `__proto__` or
 * `constructor` as a source would find what every object inherits, and charge with no status.
 */
const TEST_TOKENS = new Map<string, { status: 'succeeded' } | { status: 'failed'; declineCode: string }>([
  ['tok_visa', { status: 'succeeded' }],
  ['tok_mastercard', { status: 'succeeded' }],
  ['tok_chargeDeclined', { status: 'failed', declineCode: 'generic_decline' }],
  ['tok_chargeDeclinedInsufficientFunds', { status: 'failed', declineCode: 'insufficient_funds' }],
]);

export interface GatewayAnswer {
  statusCode: number;
  body: Record<string, unknown>;
}

export interface ChargeRequest {
  amount: number;
  currency: string;
  source: string;
  metadata?: Record<string, string> | undefined;
}

interface ChargeRow {
  id: string;
  amount: number;
  currency: string;
  status: string;
  failure_code: string | null;
  attempt_id: string | null;
  metadata: Record<string, string>;
  refunded: boolean;
  created_at: Date;
}

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * The start of `text`, cut between code points: a cut between the two halves of a surrogate pair would
 * leave one alone, which the stored answer's `jsonb` refuses.
 */
export function firstCodePoints(text: string, count: number): string {
  return Array.from(text).slice(0, count).join('');
}

function chargeObject(row: ChargeRow) {
  return {
    id: row.id,
    object: 'charge',
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    paid: row.status === 'succeeded',
    refunded: row.refunded,
    failure_code: row.failure_code,
    metadata: row.metadata,
    created: Math.floor(row.created_at.getTime() / 1000),
  };
}

/** Charges, refunds and idempotency keys of the sandbox gateway, each answer stored with its key in one transaction. */
export class ChargeStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async charge(request: ChargeRequest, idempotencyKey: string | undefined): Promise<GatewayAnswer> {
    return this.#idempotent('charges', idempotencyKey, request, async (tx) => {
      const outcome = TEST_TOKENS.get(request.source);
      if (!outcome) {
        return {
          statusCode: 400,
          body: {
            error: {
              type: 'invalid_request_error',
              code: 'resource_missing',
              param: 'source',
              message: `No such token: '${firstCodePoints(request.source, 64)}'`,
            },
          },
        };
      }
      const declineCode = outcome.status === 'failed' ? outcome.declineCode : null;
      const row = await tx.query<ChargeRow>(
        `INSERT INTO charges (id, amount, currency, status, failure_code, attempt_id, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [
          newId('ch'),
          request.amount,
          request.currency,
          outcome.status,
          declineCode ? 'card_declined' : null,
          request.metadata?.attemptId ?? null,
          request.metadata ?? {},
        ],
      );
      const charge = chargeObject(row.rows[0] as ChargeRow);
      if (!declineCode) return { statusCode: 201, body: charge };
      return {
        statusCode: 402,
        body: {
          error: {
            type: 'card_error',
            code: 'card_declined',
            decline_code: declineCode,
            charge: charge.id,
            message: 'Your card was declined.',
          },
        },
      };
    });
  }

  async refund(chargeId: string, idempotencyKey: string | undefined): Promise<GatewayAnswer> {
    return this.#idempotent('refunds', idempotencyKey, { charge: chargeId }, async (tx) => {
      const charge = await tx.query<ChargeRow>('SELECT * FROM charges WHERE id = $1 FOR UPDATE', [chargeId]);
      const row = charge.rows[0];
      if (!row) {
        return {
          statusCode: 404,
          body: { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'charge' } },
        };
      }
      if (row.status !== 'succeeded') {
        return {
          statusCode: 400,
          body: { error: { type: 'invalid_request_error', code: 'charge_not_refundable' } },
        };
      }
      const existing = await tx.query('SELECT id, amount FROM refunds WHERE charge_id = $1', [chargeId]);
      const refund = (existing.rows[0] ??
        (
          await tx.query(
            'INSERT INTO refunds (id, charge_id, amount) VALUES ($1, $2, $3) RETURNING id, amount',
            [newId('re'), chargeId, row.amount],
          )
        ).rows[0]) as { id: string; amount: number };
      await tx.query('UPDATE charges SET refunded = true WHERE id = $1', [chargeId]);
      return {
        statusCode: 201,
        body: {
          id: refund.id,
          object: 'refund',
          charge: chargeId,
          amount: refund.amount,
          status: 'succeeded',
        },
      };
    });
  }

  async get(chargeId: string) {
    const row = (await this.#db.query<ChargeRow>('SELECT * FROM charges WHERE id = $1', [chargeId])).rows[0];
    return row ? chargeObject(row) : undefined;
  }

  /**
   * Charges in creation order, a page at a time (Stripe's `limit` / `starting_after`), optionally only
   * those of one checkout attempt.
   */
  async list(options: { attempt?: string | undefined; limit: number; startingAfter?: string | undefined }) {
    const rows = await this.#db.query<ChargeRow>(
      `SELECT * FROM charges
       WHERE ($1::text IS NULL OR attempt_id = $1)
         AND ($2::text IS NULL OR (created_at, id) > (SELECT created_at, id FROM charges WHERE id = $2))
       ORDER BY created_at, id LIMIT $3`,
      [options.attempt ?? null, options.startingAfter ?? null, options.limit + 1],
    );
    return {
      data: rows.rows.slice(0, options.limit).map(chargeObject),
      hasMore: rows.rows.length > options.limit,
    };
  }

  /**
   * Runs `work` once per key: the key row is inserted first, so a concurrent request with the same key
   * waits for the first to commit and then replays its answer instead of charging again.
   */
  async #idempotent(
    endpoint: string,
    key: string | undefined,
    params: unknown,
    work: (tx: Queryable) => Promise<GatewayAnswer>,
  ): Promise<GatewayAnswer> {
    if (!key) return this.#db.transaction(work);
    const hash = createHash('sha256').update(JSON.stringify(params)).digest('hex');
    return this.#db.transaction(async (tx) => {
      const claimed = await tx.query(
        `INSERT INTO idempotency_keys (key, endpoint, request_hash, status_code, response_body)
         VALUES ($1, $2, $3, 0, '{}') ON CONFLICT DO NOTHING`,
        [key, endpoint, hash],
      );
      if (claimed.rowCount === 0) {
        const stored = await tx.query<{
          request_hash: string;
          status_code: number;
          response_body: Record<string, unknown>;
        }>(
          'SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE key = $1 AND endpoint = $2',
          [key, endpoint],
        );
        const row = stored.rows[0];
        if (!row || row.request_hash !== hash) {
          return {
            statusCode: 400,
            body: {
              error: {
                type: 'idempotency_error',
                message:
                  'Keys for idempotent requests can only be used with the same parameters they were first used with.',
              },
            },
          };
        }
        return { statusCode: row.status_code, body: row.response_body };
      }
      const answer = await work(tx);
      await tx.query(
        'UPDATE idempotency_keys SET status_code = $3, response_body = $4 WHERE key = $1 AND endpoint = $2',
        [key, endpoint, answer.statusCode, answer.body],
      );
      return answer;
    });
  }
}
