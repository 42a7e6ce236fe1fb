import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import qs from 'qs';
import { type RunningPaymentSandbox, startPaymentSandbox } from '../../../test/support/paymentSandbox.ts';
import type { Database, Queryable } from '../../platform/database/Database.ts';
import { PaymentStore } from './PaymentStore.ts';

/** A database that records every statement and stores nothing: what a refusal must leave untouched. */
function recordingDatabase() {
  const statements: string[] = [];
  const tx = {
    query: async (text: string) => {
      statements.push(text.trim().split(/\s+/).slice(0, 3).join(' '));
      return { rows: [], rowCount: 1 };
    },
  } as unknown as Queryable;
  const db = {
    transaction: async <T>(work: (q: Queryable) => Promise<T>) => work(tx),
    query: tx.query,
  } as unknown as Database;
  return { db, statements };
}

const intent = (payment_method: string) => ({ amount: 100, currency: 'usd', payment_method, confirm: true });

test('a payment method named like what every object inherits is no such payment method, and stores nothing', async () => {
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    const { db, statements } = recordingDatabase();
    const answer = await new PaymentStore(db).createPaymentIntent(intent(name), undefined);
    assert.equal(answer.statusCode, 400, name);
    const error = (answer.body as { error: { type: string; code: string; param: string } }).error;
    assert.deepEqual(
      { type: error.type, code: error.code, param: error.param },
      { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_method' },
      name,
    );
    assert.deepEqual(statements, [], `${name}: no statement`);
  }
});

test('a test payment method makes a PaymentIntent', async () => {
  const { db, statements } = recordingDatabase();
  await new PaymentStore(db).createPaymentIntent(intent('pm_card_visa'), undefined).catch(() => undefined);
  assert.deepEqual(statements, ['INSERT INTO payment_intents']);
});

describe("the payment sandbox keeps Stripe's idempotency and pagination, over real HTTP [PostgreSQL]", () => {
  let sandbox: RunningPaymentSandbox;

  before(async () => {
    sandbox = await startPaymentSandbox();
  });
  after(() => sandbox?.close());

  const call = async (method: 'GET' | 'POST', path: string, params?: object, key?: string) => {
    const response = await fetch(
      `${sandbox.url}${path}${method === 'GET' && params ? `?${qs.stringify(params)}` : ''}`,
      {
        method,
        headers: {
          authorization: `Bearer ${sandbox.apiKey}`,
          ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...(key ? { 'idempotency-key': key } : {}),
        },
        ...(method === 'POST' ? { body: qs.stringify(params ?? {}) } : {}),
      },
    );
    return {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed'),
      body: (await response.json()) as Record<string, unknown> & { error?: Record<string, unknown> },
    };
  };
  const create = (key: string | undefined, overrides: object = {}) =>
    call(
      'POST',
      '/v1/payment_intents',
      { ...intent('pm_card_visa'), metadata: { attemptId: key ?? 'none' }, ...overrides },
      key,
    );
  const count = async () =>
    (await sandbox.db.query<{ n: number }>('SELECT count(*)::int AS n FROM payment_intents')).rows[0]?.n ?? 0;

  test('the same key and parameters replay the first answer, marked Idempotent-Replayed, and make nothing', async () => {
    const key = randomUUID();
    const first = await create(key);
    assert.equal(first.status, 200);
    assert.equal(first.replayed, null);
    const before = await count();
    const again = await create(key);
    assert.deepEqual({ status: again.status, body: again.body }, { status: first.status, body: first.body });
    assert.equal(again.replayed, 'true');
    assert.equal(await count(), before);
  });

  test('a decline is replayed as the same 402, the PaymentIntent it made included', async () => {
    const key = randomUUID();
    const first = await create(key, { payment_method: 'pm_card_chargeDeclined' });
    assert.equal(first.status, 402);
    assert.equal(first.body.error?.type, 'card_error');
    assert.equal(first.body.error?.decline_code, 'generic_decline');
    assert.equal(
      (first.body.error?.payment_intent as { status?: string } | undefined)?.status,
      'requires_payment_method',
    );
    assert.deepEqual((await create(key, { payment_method: 'pm_card_chargeDeclined' })).body, first.body);
  });

  test('the same key with other parameters, or on another endpoint, is an idempotency_error', async () => {
    const key = randomUUID();
    const first = await create(key);
    const before = await count();
    const other = await create(key, { amount: 101 });
    assert.equal(other.status, 400);
    assert.equal(other.body.error?.type, 'idempotency_error');
    const refund = await call('POST', '/v1/refunds', { payment_intent: first.body.id }, key);
    assert.equal(refund.status, 400);
    assert.equal(refund.body.error?.type, 'idempotency_error');
    assert.match(String(refund.body.error?.message), /same endpoint/);
    assert.equal(await count(), before);
  });

  test('parameters in another order are the same parameters', async () => {
    const key = randomUUID();
    const first = await create(key, { metadata: { a: '1', b: '2', attemptId: key } });
    const reordered = await create(key, { metadata: { b: '2', attemptId: key, a: '1' } });
    assert.deepEqual(reordered.body, first.body);
  });

  test('a key is kept 24 hours: past them it is new', async () => {
    const key = randomUUID();
    const first = await create(key);
    await sandbox.db.query(
      "UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = $1",
      [key],
    );
    assert.equal((await create(key)).body.id, first.body.id);
    await sandbox.db.query(
      "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1",
      [key],
    );
    const later = await create(key);
    assert.equal(later.status, 200);
    assert.notEqual(later.body.id, first.body.id);
    assert.equal(later.replayed, null);
  });

  test('concurrent requests with one key make one PaymentIntent', async () => {
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 8 }, () => create(key)));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
    const made = await sandbox.db.query("SELECT id FROM payment_intents WHERE metadata->>'attemptId' = $1", [
      key,
    ]);
    assert.equal(made.rowCount, 1);
  });

  test('a refund is made once: its key replays it, and without one a second is refused', async () => {
    const paid = await create(randomUUID());
    const key = `refund-${paid.body.id}`;
    const first = await call('POST', '/v1/refunds', { payment_intent: paid.body.id }, key);
    assert.equal(first.status, 200);
    assert.equal(first.body.payment_intent, paid.body.id);
    assert.deepEqual(
      (await call('POST', '/v1/refunds', { payment_intent: paid.body.id }, key)).body,
      first.body,
    );
    const second = await call('POST', '/v1/refunds', { payment_intent: paid.body.id });
    assert.equal(second.status, 400);
    assert.equal(second.body.error?.code, 'charge_already_refunded');
    const declined = await create(undefined, { payment_method: 'pm_card_chargeDeclined' });
    const intentOfDecline = (declined.body.error?.payment_intent as { id: string } | undefined)?.id;
    const notPaid = await call('POST', '/v1/refunds', { payment_intent: intentOfDecline });
    assert.equal(notPaid.body.error?.code, 'charge_not_refundable');
    const missing = await call('POST', '/v1/refunds', { payment_intent: 'pi_missing' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error?.code, 'resource_missing');
  });

  test('lists: newest first, `limit` and `starting_after` walk every page once, `created` bounds them', async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push(String((await create(undefined)).body.id));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await call('GET', '/v1/payment_intents', {
        limit: 3,
        ...(after ? { starting_after: after } : {}),
      });
      assert.equal(page.status, 200);
      assert.equal(page.body.object, 'list');
      assert.equal(page.body.url, '/v1/payment_intents');
      const data = page.body.data as { id: string; created: number }[];
      assert.ok(data.length <= 3);
      seen.push(...data.map((d) => d.id));
      if (!page.body.has_more) break;
      after = data.at(-1)?.id;
    }
    assert.equal(seen.length, new Set(seen).size, 'no item twice');
    assert.equal(seen.length, await count());
    assert.deepEqual(seen.slice(0, 7), made.toReversed(), 'newest first');
    const future = Math.floor(Date.now() / 1000) + 3600;
    const none = await call('GET', '/v1/payment_intents', { created: { gte: future } });
    assert.deepEqual(none.body.data, []);
    const past = await call('GET', '/v1/payment_intents', { created: { lte: future }, limit: 100 });
    assert.equal((past.body.data as unknown[]).length, await count());
  });

  test('a retrieve of a PaymentIntent the sandbox does not hold is 404 resource_missing', async () => {
    const missing = await call('GET', '/v1/payment_intents/pi_nothing');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error?.code, 'resource_missing');
    const made = await create(undefined);
    assert.deepEqual((await call('GET', `/v1/payment_intents/${made.body.id}`)).body, made.body);
  });
});
