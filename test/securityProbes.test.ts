import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { startTestStack, type TestStack } from './support/stack.ts';

// Probes after the OWASP API Security Top 10 (2023), each against the running stack, each with the
// answer it must get and the proof that nothing changed. The table of probes and answers is written to
// test-results/security-probes.md.
const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));

interface Probe {
  risk: string;
  probe: string;
  answer: string;
}

describe('security probes (OWASP API Security Top 10, 2023)', () => {
  let stack: TestStack;
  let secret: string;
  const table: Probe[] = [];
  const record = (risk: string, probe: string, response: { status: number; body: Record<string, unknown> }) =>
    table.push({ risk, probe, answer: `${response.status} ${String(response.body.error ?? '')}`.trim() });

  /** A token as `steadfast token` makes it, with some claims changed. */
  const token = async (
    change: {
      sub?: string | null;
      iss?: string;
      aud?: string;
      exp?: number;
      nbf?: number;
      key?: string;
    } = {},
  ) => {
    const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' });
    if (change.sub !== null) jwt.setSubject(change.sub ?? 'usr_probe_a');
    jwt.setIssuer(change.iss ?? 'steadfast').setAudience(change.aud ?? 'steadfast-checkout');
    jwt.setExpirationTime(change.exp ?? Math.floor(Date.now() / 1000) + 3600);
    if (change.nbf) jwt.setNotBefore(change.nbf);
    return jwt.sign(new TextEncoder().encode(change.key ?? secret));
  };

  before(async () => {
    stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000' });
    secret = (
      JSON.parse(await readFile(join(stack.dataDir, 'secrets.json'), 'utf8')) as { jwtSecret: string }
    ).jwtSecret;
  });
  after(async () => {
    await mkdir(RESULTS, { recursive: true });
    await writeFile(
      join(RESULTS, 'security-probes.md'),
      [
        '| risk | probe | answer |',
        '|---|---|---|',
        ...table.map((p) => `| ${p.risk} | ${p.probe} | ${p.answer} |`),
      ].join('\n'),
    );
    await stack?.stop();
  });

  test("API1 object level authorization: another user's cart, items and order do not exist for them", async () => {
    const a = await stack.cart('usr_probe_a', [{ sku: 'sku_mug', quantity: 1 }]);
    const paid = await stack.cart('usr_probe_a', [{ sku: 'sku_pen', quantity: 1 }]);
    const order = await stack.api('POST', '/api/checkout/complete', {
      token: paid.token,
      body: { cartId: paid.cartId, paymentToken: 'pm_card_visa' },
    });
    assert.equal(order.status, 201);
    const b = await stack.token('usr_probe_b');
    const before = await stack.api('GET', `/api/carts/${a.cartId}`, { token: a.token });
    const payments = (await stack.fault('payment', {})).requestsSeen;

    const probes: [string, Promise<Awaited<ReturnType<TestStack['api']>>>, string][] = [
      [
        "read another user's cart",
        stack.api('GET', `/api/carts/${a.cartId}`, { token: b }),
        'CART_NOT_FOUND',
      ],
      [
        "add an item to another user's cart",
        stack.api('POST', `/api/carts/${a.cartId}/items`, {
          token: b,
          body: { sku: 'sku_pen', quantity: 5 },
        }),
        'CART_NOT_FOUND',
      ],
      [
        "check out another user's cart",
        stack.api('POST', '/api/checkout/complete', {
          token: b,
          body: { cartId: a.cartId, paymentToken: 'pm_card_visa' },
        }),
        'CART_NOT_FOUND',
      ],
      [
        'check out naming the other user in the body',
        stack.api('POST', '/api/checkout/complete', {
          token: b,
          body: { cartId: a.cartId, paymentToken: 'pm_card_visa', userId: 'usr_probe_a' },
        }),
        'CART_NOT_FOUND',
      ],
      [
        "read another user's order",
        stack.api('GET', `/api/orders/${order.body.orderId}`, { token: b }),
        'ORDER_NOT_FOUND',
      ],
    ];
    for (const [probe, pending, code] of probes) {
      const response = await pending;
      record('API1 broken object level authorization', probe, response);
      assert.equal(response.status, 404, `${probe}: ${response.text}`);
      assert.equal(response.body.error, code);
    }
    const after = await stack.api('GET', `/api/carts/${a.cartId}`, { token: a.token });
    assert.equal(after.text, before.text, "the owner's cart is unchanged");
    assert.equal((await stack.fault('payment', {})).requestsSeen, payments, 'nobody was charged');
  });

  test('API2 authentication: every token that is not ours, or not valid now, is 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = (claims: object) =>
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    const cases: [string, string | null, string?][] = [
      ['no token', null],
      [
        '`alg: none`',
        unsigned({ sub: 'usr_probe_a', iss: 'steadfast', aud: 'steadfast-checkout', exp: now + 3600 }),
      ],
      ['signed with another key', await token({ key: 'another-secret-another-secret-another-secret' })],
      ['expired', await token({ exp: now - 60 }), 'expired'],
      ['not valid yet (`nbf` in an hour)', await token({ nbf: now + 3600 })],
      ['another issuer', await token({ iss: 'someone-else' })],
      ['another audience', await token({ aud: 'steadfast-inventory' })],
      ['no subject', await token({ sub: null })],
      ['malformed', 'not.a.jwt'],
      ['a 12 KB header', 'a'.repeat(12_000)],
    ];
    for (const [probe, bearer, detail] of cases) {
      const response = await stack.api('GET', '/api/carts/3f6c2a9e-8d1b-4c7a-9e2f-5b8d7c6a1e04', {
        token: bearer,
      });
      record('API2 broken authentication', probe, response);
      assert.equal(response.status, 401, `${probe}: ${response.text}`);
      assert.equal(response.body.error, 'UNAUTHENTICATED');
      if (detail) assert.match(String(response.body.detail), new RegExp(detail));
    }
    const valid = await stack.api('POST', '/api/carts', { token: await token() });
    assert.equal(valid.status, 201, 'the same token, unchanged, is accepted');
  });

  test('API3 object property level authorization: prices, totals, status, owner and prototype keys are never applied', async () => {
    const { cartId, token: owner } = await stack.cart('usr_probe_c', [{ sku: 'sku_mug', quantity: 1 }]);
    const raw = (path: string, text: string) =>
      stack.api('POST', path, { token: owner, raw: text, headers: { 'content-type': 'application/json' } });
    const probes: [string, Promise<Awaited<ReturnType<TestStack['api']>>>][] = [
      [
        'an item with its own price',
        raw(`/api/carts/${cartId}/items`, '{"sku":"sku_pen","quantity":1,"unitPriceCents":1}'),
      ],
      [
        'a checkout with an amount, a total and a status',
        raw(
          '/api/checkout/complete',
          `{"cartId":"${cartId}","paymentToken":"pm_card_visa","amountCents":1,"totalCents":1,"status":"CONFIRMED"}`,
        ),
      ],
      [
        'a `__proto__` key',
        raw(`/api/carts/${cartId}/items`, '{"sku":"sku_pen","quantity":1,"__proto__":{"x":1}}'),
      ],
      [
        'a `constructor.prototype` key',
        raw(
          '/api/checkout/complete',
          `{"cartId":"${cartId}","paymentToken":"pm_card_visa","constructor":{"prototype":{"admin":true}}}`,
        ),
      ],
    ];
    for (const [probe, pending] of probes) {
      const response = await pending;
      record('API3 broken object property level authorization', probe, response);
      assert.equal(response.status, 400, `${probe}: ${response.text}`);
    }
    const cart = await stack.api('GET', `/api/carts/${cartId}`, { token: owner });
    assert.equal(cart.body.totalCents, 1400, 'the price is the catalogue price');
    assert.equal(cart.body.status, 'open');
    assert.equal(({} as Record<string, unknown>).admin, undefined);
    const paid = await stack.api('POST', '/api/checkout/complete', {
      token: owner,
      body: { cartId, paymentToken: 'pm_card_visa' },
    });
    assert.equal(paid.status, 201, 'then a proper checkout goes through, at the catalogue price');
    const order = await stack.api('GET', `/api/orders/${paid.body.orderId}`, { token: owner });
    assert.equal(order.body.amountCents, 1400);
  });

  test('API4 resource consumption: deep or huge JSON is refused at once', async () => {
    const { token: owner } = await stack.cart('usr_probe_d');
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`.slice(0, 60_000);
    const cases: [string, string, number][] = [
      ['JSON nested 30,000 deep', deep, 400],
      ['a 1 MB body', JSON.stringify({ cartId: 'x'.repeat(1_000_000), paymentToken: 'pm_card_visa' }), 413],
    ];
    for (const [probe, text, status] of cases) {
      const response = await stack.api('POST', '/api/checkout/complete', {
        token: owner,
        raw: text,
        headers: { 'content-type': 'application/json' },
      });
      record('API4 unrestricted resource consumption', probe, response);
      assert.equal(response.status, status, `${probe}: ${response.text}`);
      assert.ok(response.elapsedMs < 2000, `${probe} answered in ${response.elapsedMs} ms`);
    }
    assert.equal((await stack.api('GET', '/health/live', { token: null })).status, 200);
  });

  test('API8 misconfiguration: no header can be injected through an echoed value', async () => {
    const odd = await stack.api('GET', '/api/orders/x', {
      token: null,
      headers: { 'x-request-id': 'abc<script>alert(1)</script>' },
    });
    record('API8 security misconfiguration', 'an X-Request-Id with markup', odd);
    assert.match(String(odd.headers.get('x-request-id')), /^[0-9a-f-]{36}$/, 'replaced, not echoed');

    // A raw request whose header carries CR LF: the server must not answer with the injected header.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(stack.info.checkoutUrl).port), '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk;
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.write('GET /api/orders/x HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\rSet-Cookie: pwned=1\r\n\r\n');
      setTimeout(() => socket.end(), 1000);
    });
    const status = Number(answer.split(' ')[1]);
    table.push({
      risk: 'API8 security misconfiguration',
      probe: 'a header value with a bare CR',
      answer: `${status}`,
    });
    assert.equal(status, 400, answer);
    assert.doesNotMatch(answer, /set-cookie/i);
    assert.match(answer, /application\/problem\+json/, "in the contract, not the HTTP parser's own body");

    const payment = async (authorization?: string) =>
      fetch(`${stack.info.paymentUrl}/v1/payment_intents?limit=1`, {
        headers: authorization ? { authorization } : {},
      });
    for (const [probe, authorization] of [
      ['the payment sandbox without its API key', undefined],
      ['the payment sandbox with a wrong API key', 'Bearer sk_test_wrong'],
    ] as const) {
      const response = await payment(authorization);
      table.push({ risk: 'API8 security misconfiguration', probe, answer: String(response.status) });
      assert.equal(response.status, 401, probe);
    }
  });
});
