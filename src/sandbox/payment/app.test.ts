import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import pino from 'pino';
import qs from 'qs';
import { createHttpServer } from '../../platform/http/createHttpServer.ts';
import { PlatformMetrics } from '../../platform/metrics/PlatformMetrics.ts';
import { FaultSwitch } from '../faultSwitch.ts';
import { parseStripeParams, registerPaymentRoutes, renderStripeError } from './app.ts';
import { firstCodePoints, type PaymentStore } from './PaymentStore.ts';

const API_KEY = 'sk_test_unit_key';

/** The routes over a store that only records what reached it: a refusal must reach nothing. */
function gateway() {
  const calls: { method: string; args: unknown[] }[] = [];
  const record =
    (method: string, answer: unknown) =>
    async (...args: unknown[]) => {
      calls.push({ method, args });
      return answer;
    };
  const store = {
    createPaymentIntent: record('createPaymentIntent', {
      statusCode: 200,
      body: { id: 'pi_1', object: 'payment_intent' },
    }),
    refund: record('refund', { statusCode: 200, body: { id: 're_1', object: 'refund' } }),
    paymentIntent: record('paymentIntent', { id: 'pi_1', object: 'payment_intent' }),
    listPaymentIntents: record('listPaymentIntents', { object: 'list', data: [], has_more: false }),
    listRefunds: record('listRefunds', { object: 'list', data: [], has_more: false }),
  } as unknown as PaymentStore;
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const app = createHttpServer({
    logger: pino(sink),
    metrics: new PlatformMetrics('payment-unit'),
    bodyLimit: 65536,
    renderError: renderStripeError,
    querystringParser: parseStripeParams,
  });
  registerPaymentRoutes(app, store, new FaultSwitch(), { apiKey: API_KEY, production: false });
  /**
   * A body is sent as Stripe's SDK sends it: form-encoded, nested keys in brackets; a string as it is.
   * A lone surrogate cannot be written in a form body (its bytes are UTF-8): that one goes as JSON, which
   * the routes read too, its values text as a form's are.
   */
  const send = async (
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body === undefined
          ? {}
          : { 'content-type': wellFormed(body) ? 'application/x-www-form-urlencoded' : 'application/json' }),
        ...headers,
      },
      ...(body === undefined
        ? {}
        : {
            payload:
              typeof body === 'string'
                ? body
                : wellFormed(body)
                  ? qs.stringify(body)
                  : JSON.stringify(asFormValues(body)),
          }),
    });
    return { status: response.statusCode, body: response.json() as { error?: Record<string, unknown> } };
  };
  return { app, calls, send };
}

/** True when every key and string in `value` can be written in UTF-8. */
function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (value && typeof value === 'object')
    return Object.entries(value).every(([key, item]) => key.isWellFormed() && wellFormed(item));
  return true;
}

/** Every scalar as the text a form would carry. */
function asFormValues(value: unknown): unknown {
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, asFormValues(item)]));
  return String(value);
}

const charge = (overrides: Record<string, unknown>) => ({
  amount: 1400,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
  metadata: { attemptId: '0b7e6c1e-2f0a-4a53-9d4e-6d1c0e5f7a21' },
  ...overrides,
});

/** Text PostgreSQL cannot store (NUL), jsonb refuses (a lone surrogate) or a log must not carry (controls). */
const UNSTORABLE = [
  'tok\u0000visa',
  'tok\ud800',
  '\udc00tok',
  'tok\u0085',
  'tok\u007f',
  'tok\nvisa',
  '\u001b[2J',
];

function assertRefused(
  answer: { status: number; body: { error?: Record<string, unknown> } },
  param: string,
  what: string,
) {
  assert.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error?.type, 'invalid_request_error', what);
  assert.equal(answer.body.error?.param, param, `${what}: ${JSON.stringify(answer.body)}`);
  assert.equal(typeof answer.body.error?.message, 'string', what);
}

describe('payment sandbox: input it cannot store is refused as Stripe would, and reaches nothing', () => {
  test('a payment method that is not storable text: 400 invalid_request_error, param payment_method', async () => {
    const { calls, send } = gateway();
    for (const method of UNSTORABLE) {
      assertRefused(
        await send('POST', '/v1/payment_intents', charge({ payment_method: method })),
        'payment_method',
        JSON.stringify(method),
      );
    }
    assert.deepEqual(calls, []);
  });

  test('metadata: every value and key is checked, and Stripe limits hold', async () => {
    const { calls, send } = gateway();
    for (const value of UNSTORABLE) {
      assertRefused(
        await send('POST', '/v1/payment_intents', charge({ metadata: { userId: value } })),
        'metadata[userId]',
        `value ${JSON.stringify(value)}`,
      );
    }
    for (const key of ['user\u0000Id', 'a\ud800', 'tab\tkey', 'a\u2028', 'b\u2029', '', 'k'.repeat(41)]) {
      assertRefused(
        await send('POST', '/v1/payment_intents', charge({ metadata: { [key]: 'x' } })),
        'metadata',
        `key ${JSON.stringify(key)}`,
      );
    }
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    assertRefused(
      await send('POST', '/v1/payment_intents', charge({ metadata: many })),
      'metadata',
      '51 keys',
    );
    assertRefused(
      await send('POST', '/v1/payment_intents', charge({ metadata: { userId: 'u'.repeat(501) } })),
      'metadata[userId]',
      'a value of 501 characters',
    );
    assert.deepEqual(calls, []);
  });

  test('ids in bodies, paths and queries, and the idempotency key', async () => {
    const { calls, send } = gateway();
    assertRefused(
      await send('POST', '/v1/refunds', { payment_intent: 'pi_\u0000' }),
      'payment_intent',
      'refund of NUL',
    );
    assertRefused(
      await send('POST', '/v1/refunds', { payment_intent: 'pi_\ud83d' }),
      'payment_intent',
      'refund of a surrogate',
    );
    assertRefused(
      await send('GET', '/v1/refunds?payment_intent=a%00b'),
      'payment_intent',
      'payment_intent with NUL',
    );
    assertRefused(
      await send('GET', '/v1/refunds?payment_intent=a%C2%85'),
      'payment_intent',
      'payment_intent with a C1 control',
    );
    assertRefused(
      await send('GET', '/v1/payment_intents?starting_after=%1B'),
      'starting_after',
      'cursor with ESC',
    );
    assertRefused(
      await send('GET', '/v1/payment_intents?created[gte]=1e9'),
      'created[gte]',
      'a time that is not whole seconds',
    );
    assertRefused(await send('GET', '/v1/payment_intents/pi_%00'), 'id', 'path id with NUL');
    assertRefused(await send('GET', '/v1/payment_intents/pi_%7F'), 'id', 'path id with DEL');
    for (const limit of ['0', '101', '-1']) {
      assertRefused(await send('GET', `/v1/payment_intents?limit=${limit}`), 'limit', `limit ${limit}`);
    }
    // A header arrives as latin1: 0x85 is NEL, a C1 control.
    assertRefused(
      await send('POST', '/v1/payment_intents', charge({}), { 'idempotency-key': 'key\u0085' }),
      'idempotency-key',
      'idempotency key with a C1 control',
    );
    assert.deepEqual(calls, []);
  });

  test('text of any script still passes: the refusals are of what cannot be stored, nothing more', async () => {
    const { calls, send } = gateway();
    const metadata = { userId: 'Grüße 東京 مرحبا 😀 e\u0301 a\u200db \ufffe', cartId: 'x'.repeat(500) };
    assert.equal((await send('POST', '/v1/payment_intents', charge({ metadata }))).status, 200);
    assert.equal((await send('GET', '/v1/refunds?payment_intent=%F0%9F%98%80')).status, 200);
    // Keys named like what every object inherits are keys like any other.
    const inherited = { constructor: 'a', toString: 'b', __proto__x: 'c' };
    assert.equal((await send('POST', '/v1/payment_intents', charge({ metadata: inherited }))).status, 200);
    assert.deepEqual(
      calls.map((c) => c.method),
      ['createPaymentIntent', 'listRefunds', 'createPaymentIntent'],
    );
    assert.deepEqual({ ...(calls[0]?.args[0] as { metadata?: object } | undefined)?.metadata }, metadata);
    assert.deepEqual({ ...(calls[2]?.args[0] as { metadata?: object } | undefined)?.metadata }, inherited);
  });

  test('a refusal names its parameter as Stripe does, and none when it is about the whole request', async () => {
    const { send } = gateway();
    const missing = await send('POST', '/v1/payment_intents', { amount: 1400, currency: 'usd' });
    assertRefused(missing, 'payment_method', 'missing payment_method');
    assert.equal(missing.body.error?.code, 'missing_required_fields');
    assertRefused(
      await send('POST', '/v1/payment_intents', charge({ amount: '100000000' })),
      'amount',
      'past the largest charge',
    );
    assertRefused(
      await send('POST', '/v1/payment_intents', charge({ amount: '14.5' })),
      'amount',
      'a fraction',
    );
    const notAnObject = await send('POST', '/v1/payment_intents', '[]', {
      'content-type': 'application/json',
    });
    assert.equal(notAnObject.status, 400);
    assert.equal(notAnObject.body.error?.param, undefined, JSON.stringify(notAnObject.body));
  });
});

test('firstCodePoints cuts between code points, never between the halves of a pair', () => {
  const text = `${'a'.repeat(63)}😀😀`;
  assert.equal(firstCodePoints(text, 64), `${'a'.repeat(63)}😀`);
  assert.equal(text.slice(0, 64).at(-1), '\ud83d', 'where a slice by code units cuts');
  assert.equal(firstCodePoints('tok', 64), 'tok');
});
