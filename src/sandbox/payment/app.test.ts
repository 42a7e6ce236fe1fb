import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import pino from 'pino';
import { createHttpServer } from '../../platform/http/createHttpServer.ts';
import { PlatformMetrics } from '../../platform/metrics/PlatformMetrics.ts';
import { FaultSwitch } from '../faultSwitch.ts';
import { registerPaymentRoutes, renderStripeError } from './app.ts';
import { type ChargeStore, firstCodePoints } from './ChargeStore.ts';

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
    charge: record('charge', { statusCode: 201, body: { id: 'ch_1', object: 'charge' } }),
    refund: record('refund', { statusCode: 201, body: { id: 're_1', object: 'refund' } }),
    get: record('get', { id: 'ch_1', object: 'charge' }),
    list: record('list', { data: [], hasMore: false }),
  } as unknown as ChargeStore;
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const app = createHttpServer({
    logger: pino(sink),
    metrics: new PlatformMetrics('payment-unit'),
    bodyLimit: 65536,
    renderError: renderStripeError,
  });
  registerPaymentRoutes(app, store, new FaultSwitch(), { apiKey: API_KEY, production: false });
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
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.statusCode, body: response.json() as { error?: Record<string, unknown> } };
  };
  return { app, calls, send };
}

const charge = (overrides: Record<string, unknown>) => ({
  amount: 1400,
  currency: 'usd',
  source: 'tok_visa',
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
  test('a source that is not storable text: 400 invalid_request_error, param source', async () => {
    const { calls, send } = gateway();
    for (const source of UNSTORABLE) {
      assertRefused(await send('POST', '/v1/charges', charge({ source })), 'source', JSON.stringify(source));
    }
    assert.deepEqual(calls, []);
  });

  test('metadata: every value and key is checked, and Stripe limits hold', async () => {
    const { calls, send } = gateway();
    for (const value of UNSTORABLE) {
      assertRefused(
        await send('POST', '/v1/charges', charge({ metadata: { userId: value } })),
        'metadata[userId]',
        `value ${JSON.stringify(value)}`,
      );
    }
    for (const key of ['user\u0000Id', 'a\ud800', 'tab\tkey', 'a\u2028', 'b\u2029', '', 'k'.repeat(41)]) {
      assertRefused(
        await send('POST', '/v1/charges', charge({ metadata: { [key]: 'x' } })),
        'metadata',
        `key ${JSON.stringify(key)}`,
      );
    }
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    assertRefused(await send('POST', '/v1/charges', charge({ metadata: many })), 'metadata', '51 keys');
    assertRefused(
      await send('POST', '/v1/charges', charge({ metadata: { userId: 'u'.repeat(501) } })),
      'metadata[userId]',
      'a value of 501 characters',
    );
    assert.deepEqual(calls, []);
  });

  test('ids in bodies, paths and queries, and the idempotency key', async () => {
    const { calls, send } = gateway();
    assertRefused(await send('POST', '/v1/refunds', { charge: 'ch_\u0000' }), 'charge', 'refund of NUL');
    assertRefused(
      await send('POST', '/v1/refunds', { charge: 'ch_\ud83d' }),
      'charge',
      'refund of a surrogate',
    );
    assertRefused(await send('GET', '/v1/charges?attempt=a%00b'), 'attempt', 'attempt with NUL');
    assertRefused(await send('GET', '/v1/charges?attempt=a%C2%85'), 'attempt', 'attempt with a C1 control');
    assertRefused(await send('GET', '/v1/charges?starting_after=%1B'), 'starting_after', 'cursor with ESC');
    assertRefused(await send('GET', '/v1/charges/ch_%00'), 'id', 'path id with NUL');
    assertRefused(await send('GET', '/v1/charges/ch_%7F'), 'id', 'path id with DEL');
    // A header arrives as latin1: 0x85 is NEL, a C1 control.
    assertRefused(
      await send('POST', '/v1/charges', charge({}), { 'idempotency-key': 'key\u0085' }),
      'idempotency-key',
      'idempotency key with a C1 control',
    );
    assert.deepEqual(calls, []);
  });

  test('text of any script still passes: the refusals are of what cannot be stored, nothing more', async () => {
    const { calls, send } = gateway();
    const metadata = { userId: 'Grüße 東京 مرحبا 😀 e\u0301 a\u200db \ufffe', cartId: 'x'.repeat(500) };
    assert.equal((await send('POST', '/v1/charges', charge({ metadata }))).status, 201);
    assert.equal((await send('GET', '/v1/charges?attempt=%F0%9F%98%80')).status, 200);
    assert.deepEqual(
      calls.map((c) => c.method),
      ['charge', 'list'],
    );
    assert.deepEqual((calls[0]?.args[0] as { metadata?: unknown } | undefined)?.metadata, metadata);
  });

  test('a refusal names its parameter as Stripe does, and none when it is about the whole request', async () => {
    const { send } = gateway();
    const missing = await send('POST', '/v1/charges', { amount: 1400, currency: 'usd' });
    assertRefused(missing, 'source', 'missing source');
    assert.equal(missing.body.error?.code, 'missing_required_fields');
    const notAnObject = await send('POST', '/v1/charges', '[]');
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
