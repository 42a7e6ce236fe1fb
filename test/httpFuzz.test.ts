import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Client } from 'undici';
import { ApiContract, type ApiDocument } from './support/apiContract.ts';
import { assertSanitized } from './support/sanitized.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// Generated requests against every route of the running checkout service: methods, paths, ids, bodies
// of any shape, size and script, content types, tokens and headers. Every answer must be a documented
// 2xx or 4xx in problem+json, never a 5xx, never an internal; the service stays healthy and reconcile
// clean. HTTP_FUZZ_RUNS sets the number of requests (10,000 by default; `npm run fuzz` more).
const RUNS = Number(process.env.HTTP_FUZZ_RUNS ?? 10_000);

const unsignedToken = (claims: object) =>
  `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

describe('HTTP fuzzing of every route: documented answers only, never a 5xx', () => {
  let stack: TestStack;
  let contract: ApiContract;
  let tokens: Record<string, string | undefined>;
  let cartId: string;
  let client: Client;

  before(async () => {
    stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000000' });
    contract = new ApiContract(
      (await (await fetch(`${stack.info.checkoutUrl}/openapi.json`)).json()) as ApiDocument,
    );
    client = new Client(stack.info.checkoutUrl);
    const owner = await stack.cart('usr_fuzz_owner', [{ sku: 'sku_mug', quantity: 1 }]);
    cartId = owner.cartId;
    const { signToken } = await import('../src/checkout/auth.ts');
    const secrets = await readFile(join(stack.dataDir, 'secrets.json'), 'utf8');
    const jwtSecret = (JSON.parse(secrets) as { jwtSecret: string }).jwtSecret;
    tokens = {
      owner: `Bearer ${owner.token}`,
      stranger: `Bearer ${await stack.token('usr_fuzz_stranger')}`,
      expired: `Bearer ${await signToken(jwtSecret, 'usr_fuzz_owner', '1h ago')}`,
      algNone: `Bearer ${unsignedToken({ sub: 'usr_fuzz_owner', exp: 4102444800 })}`,
      garbage: 'Bearer not.a.token',
      huge: `Bearer ${'a'.repeat(12_000)}`,
      basic: 'Basic dXNlcjpwYXNz',
      none: undefined,
    };
  });
  after(async () => {
    await client?.close();
    await stack?.stop();
  });

  test(`${RUNS} generated requests`, async () => {
    const id = fc.oneof(
      fc.constant(() => cartId),
      fc.uuid().map((u) => () => u),
      fc.string({ maxLength: 80 }).map((s) => () => s),
      fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => () => s),
      fc.constantFrom('..', '%00', "' OR 1=1 --", '__proto__', 'a'.repeat(3000)).map((s) => () => s),
    );
    const scalar = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 50 }),
      fc.integer(),
      fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, -0, 0.1, 2 ** 31),
      fc.boolean(),
      fc.constant(null),
    );
    const checkoutBody = fc.record(
      {
        cartId: fc.oneof(
          id.map((f) => f()),
          scalar,
        ),
        paymentToken: fc.oneof(fc.constantFrom('tok_visa', 'tok_chargeDeclined', ''), scalar),
        userId: fc.oneof(fc.constant('usr_fuzz_stranger'), scalar),
        sku: fc.oneof(fc.constantFrom('sku_mug', 'sku_sold_out'), scalar),
        quantity: fc.oneof(fc.integer({ min: -5, max: 2000 }), scalar),
        amountCents: scalar,
        price: scalar,
        status: scalar,
      },
      { requiredKeys: [] },
    );
    // Keys that pollute a prototype when a body is merged carelessly, written into the JSON text itself.
    const polluted = fc
      .tuple(
        checkoutBody,
        fc.constantFrom('"__proto__":{"admin":true}', '"constructor":{"prototype":{"admin":true}}'),
      )
      .map(([b, key]) => JSON.stringify(b).replace(/^\{/, `{${key}${Object.keys(b).length ? ',' : ''}`));
    const body = fc.oneof(
      { weight: 3, arbitrary: checkoutBody.map((b) => JSON.stringify(b)) },
      { weight: 1, arbitrary: polluted },
      { weight: 2, arbitrary: fc.json({ depthSize: 'medium' }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
      { weight: 1, arbitrary: fc.constantFrom('{', '[]', 'null', '{"cartId": 1e999}', '{"a":'.repeat(500)) },
      { weight: 1, arbitrary: fc.constant(JSON.stringify({ cartId: 'x'.repeat(70_000) })) },
      { weight: 2, arbitrary: fc.constant(undefined) },
    );
    const path = fc.oneof(
      fc.constantFrom('/api/carts', '/api/checkout/complete', '/api/orders', '/api', '/', '/openapi.json'),
      fc.tuple(fc.constantFrom('/api/carts/', '/api/orders/'), id, fc.constantFrom('', '/items', '/x/y')).map(
        ([prefix, make, suffix]) =>
          () =>
            `${prefix}${encodeURIComponent(make())}${suffix}`,
      ),
      fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
    );
    const requestArb = fc.record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
      path,
      query: fc.option(fc.webQueryParameters(), { nil: undefined }),
      auth: fc.constantFrom(
        'owner',
        'owner',
        'owner',
        'stranger',
        'expired',
        'algNone',
        'garbage',
        'huge',
        'basic',
        'none',
      ),
      contentType: fc.constantFrom(
        'application/json',
        'application/json',
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'garbage',
        undefined,
      ),
      body,
      idempotencyKey: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
      duplicateHeaders: fc.boolean(),
      requestId: fc.option(fc.string({ unit: 'grapheme', maxLength: 200 }), { nil: undefined }),
    });

    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const url = `${typeof r.path === 'function' ? r.path() : r.path}${r.query ? `?${r.query}` : ''}`;
        const headers: Record<string, string | string[]> = {};
        const auth = tokens[r.auth];
        if (auth) headers.authorization = auth;
        if (r.contentType && r.body !== undefined) headers['content-type'] = r.contentType;
        if (r.idempotencyKey !== undefined) headers['idempotency-key'] = asHeader(r.idempotencyKey);
        // The same header twice, with different values: which one counts must not be a server error.
        if (r.duplicateHeaders) {
          headers['idempotency-key'] = ['dup-1', 'dup-2'];
          headers['x-request-id'] = ['req-1', 'req-2'];
          if (auth) headers.authorization = [auth, 'Bearer other'];
        }
        if (r.requestId !== undefined) headers['x-request-id'] = asHeader(r.requestId);
        const sendsBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
        const response = await client.request({
          path: url,
          method: r.method as 'GET',
          headers,
          body: sendsBody ? r.body : undefined,
        });
        const text = await response.body.text();
        const status = response.statusCode;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const where = `${r.method} ${url.slice(0, 120)} (${r.auth}, ${r.contentType}) answered ${status}: ${text.slice(0, 300)}`;
        assert.ok(status < 500, `never a 5xx: ${where}`);
        assertSanitized(text);
        const contentType = String(response.headers['content-type'] ?? '');
        if (status >= 400 && r.method !== 'HEAD') {
          assert.match(contentType, /^application\/problem\+json/, where);
          assert.match(String((JSON.parse(text) as { error?: unknown }).error), /^[A-Z_]+$/, where);
        }
        const asFetch = new Headers();
        for (const [name, value] of Object.entries(response.headers))
          if (typeof value === 'string') asFetch.set(name, value);
        if (r.method !== 'HEAD') contract.check(r.method, url, { status, headers: asFetch, text });
      }),
      { numRuns: RUNS },
    );

    // Bad input changed nothing it should not have: the service is well, the books balance.
    const health = await stack.api('GET', '/health', { token: null });
    assert.equal(health.status, 200, health.text);
    const reconciled = await stack.reconcile();
    assert.equal(reconciled.code, 0, reconciled.stdout);
    const seen = JSON.stringify(Object.fromEntries(statuses));
    for (const status of [200, 400, 401, 404, 415])
      assert.ok((statuses.get(status) ?? 0) > 0, `the requests reached ${status} too: ${seen}`);
  });
});

/** A header value HTTP can carry: visible ASCII (others are refused by the client before sending). */
function asHeader(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').trim() || 'k';
}
