import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import pg from 'pg';
import { assertProblem } from './support/problems.ts';
import { type ApiResponse, eventually, startTestStack, type TestStack } from './support/stack.ts';

// Every row of the status list (docs/http-api.md), against the real stack: checkout, inventory, payment sandbox, PostgreSQL.
interface ProblemResponseDoc {
  headers: Record<string, unknown>;
  content: Record<
    string,
    { schema: { properties: { error: { enum: string[] } } }; examples: Record<string, unknown> }
  >;
}

describe('checkout: every status it returns is true', () => {
  let stack: TestStack;
  const checkout = (cartId: string, token: string, extra: Record<string, unknown> = {}, headers = {}) =>
    stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'pm_card_visa', ...extra },
      headers,
    });

  before(async () => {
    stack = await startTestStack({
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '5',
      MAX_CONCURRENT_REQUESTS: '6',
      BODY_LIMIT_BYTES: '2048',
      PAYMENT_TIMEOUT_MS: '2000',
    });
  });
  after(() => stack?.stop());

  test('201 CONFIRMED: an order, a charge, the stock sold', async () => {
    const { cartId, token } = await stack.cart('usr_ok', [{ sku: 'sku_pen', quantity: 2 }]);
    const before = await stack.stock('sku_pen');
    const response = await checkout(cartId, token);
    assert.equal(response.status, 201, response.text);
    assert.equal(response.body.status, 'CONFIRMED');
    assert.match(String(response.body.transactionId), /^pi_/);
    const order = await stack.api('GET', `/api/orders/${response.body.orderId}`, { token });
    assert.equal(order.status, 200);
    assert.equal(order.body.transactionId, response.body.transactionId);
    assert.equal(order.body.amountCents, 2 * 4200);
    assert.equal((await stack.stock('sku_pen')).available, before.available - 2);
    // Reserved units are sold just after the answer, with the instance's next batch.
    await eventually(async () => (await stack.stock('sku_pen')).sold === before.sold + 2, 5000, 'stock sold');
    const cart = await stack.api('GET', `/api/carts/${cartId}`, { token });
    assert.equal(cart.body.status, 'checked_out');
    // Someone else's order does not exist for them.
    const stranger = await stack.token('usr_not_the_buyer');
    assertProblem(
      await stack.api('GET', `/api/orders/${response.body.orderId}`, { token: stranger }),
      404,
      'ORDER_NOT_FOUND',
    );
  });

  test('400 INVALID_JSON: a body that is not JSON', async () => {
    assertProblem(
      await stack.api('POST', '/api/checkout/complete', { raw: '{"cartId": ' }),
      400,
      'INVALID_JSON',
    );
  });

  test('415 UNSUPPORTED_MEDIA_TYPE: a body that is not sent as JSON', async () => {
    const response = await stack.api('POST', '/api/checkout/complete', {
      raw: 'cartId=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assertProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('413 PAYLOAD_TOO_LARGE: a body over the limit', async () => {
    const response = await stack.api('POST', '/api/checkout/complete', {
      body: { cartId: 'x', paymentToken: 'x'.repeat(5000) },
    });
    assertProblem(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  test('400 MISSING_REQUIRED_FIELDS names every missing field', async () => {
    const response = await stack.api('POST', '/api/checkout/complete', { body: {} });
    assertProblem(response, 400, 'MISSING_REQUIRED_FIELDS');
    assert.deepEqual(response.body.fields, ['cartId', 'paymentToken']);
    assert.match(String(response.body.message), /cartId, paymentToken/);
  });

  test('400 VALIDATION_FAILED: a field of the wrong type or shape', async () => {
    assertProblem(
      await stack.api('POST', '/api/checkout/complete', {
        body: { cartId: 42, paymentToken: 'pm_card_visa' },
      }),
      400,
      'VALIDATION_FAILED',
    );
    const { cartId, token } = await stack.cart('usr_shape');
    assertProblem(
      await stack.api('POST', `/api/carts/${cartId}/items`, {
        token,
        body: { sku: 'sku_mug', quantity: 'two' },
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  test('400 VALIDATION_FAILED: text that cannot be stored, in any field, path or header, changes nothing', async () => {
    const { cartId, token } = await stack.cart('usr_unstorable');
    const before = await stack.stock('sku_mug');
    for (const bad of [
      'sku_mug\u0000',
      'sku\u001b[2J',
      '\ud800',
      'x\u0085',
      'a\u2028[steadfast] stopped',
      '\u202e',
    ]) {
      for (const request of [
        { path: `/api/carts/${cartId}/items`, body: { sku: bad, quantity: 1 } },
        { path: '/api/checkout/complete', body: { cartId, paymentToken: bad } },
        { path: '/api/checkout/complete', body: { cartId: bad, paymentToken: 'pm_card_visa' } },
        { path: '/api/checkout/complete', body: { cartId, paymentToken: 'pm_card_visa', userId: bad } },
      ]) {
        const answer = await stack.api('POST', request.path, { token, body: request.body });
        assertProblem(answer, 400, 'VALIDATION_FAILED');
      }
    }
    for (const encoded of ['%00', '%1B%5B2J', '%C2%85', '%ED%A0%80']) {
      const path = await stack.api('GET', `/api/orders/${encoded}`, { token });
      assert.equal(path.status, 400, `${encoded} in a path -> ${path.status}`);
    }
    // A header can carry a C1 control as a latin1 byte: refused like the same character in a body.
    const keyed = await checkout(cartId, token, {}, { 'idempotency-key': 'key\u0085' });
    assertProblem(keyed, 400, 'VALIDATION_FAILED');
    assert.deepEqual(await stack.stock('sku_mug'), before);
    assert.equal((await stack.api('GET', `/api/carts/${cartId}`, { token })).body.status, 'open');
  });

  test('422 CART_LIMIT_EXCEEDED: a cart past its limits is refused on add and at checkout, never a 500', async () => {
    const { cartId, token } = await stack.cart('usr_limits', [{ sku: 'sku_mug', quantity: 1000 }]);
    const more = await stack.api('POST', `/api/carts/${cartId}/items`, {
      token,
      body: { sku: 'sku_mug', quantity: 1 },
    });
    assertProblem(more, 422, 'CART_LIMIT_EXCEEDED');
    assert.match(String(more.body.detail), /1000 units of one product/);
    const cart = await stack.api('GET', `/api/carts/${cartId}`, { token });
    assert.deepEqual(
      (cart.body.items as { quantity: number }[]).map((line) => line.quantity),
      [1000],
    );

    // A price that rose after the cart was filled: 1,000 units now sum past PostgreSQL's integer.
    const pricey = `sku_limits_${Date.now()}`;
    await stack.db.query('INSERT INTO products (sku, name, price_cents) VALUES ($1, $2, 100)', [
      pricey,
      'Limit',
    ]);
    const filled = await stack.cart('usr_limits_priced');
    assert.equal(
      (
        await stack.api('POST', `/api/carts/${filled.cartId}/items`, {
          token: filled.token,
          body: { sku: pricey, quantity: 1000 },
        })
      ).status,
      200,
    );
    await stack.db.query('UPDATE products SET price_cents = 2000000000 WHERE sku = $1', [pricey]);
    const charged = await stack.api('POST', '/api/checkout/complete', {
      token: filled.token,
      body: { cartId: filled.cartId, paymentToken: 'pm_card_visa' },
    });
    assertProblem(charged, 422, 'CART_LIMIT_EXCEEDED');
    const attempts = await stack.db.query('SELECT 1 FROM checkout_attempts WHERE cart_id = $1', [
      filled.cartId,
    ]);
    assert.equal(attempts.rowCount, 0, 'no attempt, so nothing reserved or charged');
    const adding = await stack.api('POST', `/api/carts/${filled.cartId}/items`, {
      token: filled.token,
      body: { sku: 'sku_mug', quantity: 1 },
    });
    assertProblem(adding, 422, 'CART_LIMIT_EXCEEDED');
    assert.match(String(adding.body.detail), /total is at most 99999999/);
  });

  test('401 UNAUTHENTICATED: no token, a forged one, an expired one', async () => {
    const body = { cartId: 'c', paymentToken: 'pm_card_visa' };
    assertProblem(
      await stack.api('POST', '/api/checkout/complete', { token: null, body }),
      401,
      'UNAUTHENTICATED',
    );
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('usr_demo')
      .setIssuer('steadfast')
      .setAudience('steadfast-checkout')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret'));
    assertProblem(
      await stack.api('POST', '/api/checkout/complete', { token: forged, body }),
      401,
      'UNAUTHENTICATED',
    );
    const secret = JSON.parse(await readFile(join(stack.dataDir, 'secrets.json'), 'utf8'))
      .jwtSecret as string;
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('usr_demo')
      .setIssuer('steadfast')
      .setAudience('steadfast-checkout')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(secret));
    const response = await stack.api('POST', '/api/checkout/complete', { token: expired, body });
    assertProblem(response, 401, 'UNAUTHENTICATED');
    assert.match(String(response.body.detail), /expired/);
  });

  test("404 CART_NOT_FOUND: unknown, someone else's, or a body naming another user", async () => {
    const { cartId } = await stack.cart('usr_owner');
    const stranger = await stack.token('usr_stranger');
    assertProblem(await checkout('00000000-0000-4000-8000-000000000000', stranger), 404, 'CART_NOT_FOUND');
    assertProblem(await checkout('not-a-uuid', stranger), 404, 'CART_NOT_FOUND');
    assertProblem(await checkout(cartId, stranger), 404, 'CART_NOT_FOUND');
    assertProblem(await checkout(cartId, stranger, { userId: 'usr_owner' }), 404, 'CART_NOT_FOUND');
    assertProblem(await stack.api('GET', `/api/carts/${cartId}`, { token: stranger }), 404, 'CART_NOT_FOUND');
  });

  test('409 CART_ALREADY_CHECKED_OUT: a second checkout of a paid cart', async () => {
    const { cartId, token } = await stack.cart('usr_twice');
    assert.equal((await checkout(cartId, token)).status, 201);
    assertProblem(await checkout(cartId, token), 409, 'CART_ALREADY_CHECKED_OUT');
  });

  test('409 INVENTORY_CONFLICT: stock insufficient, nothing charged', async () => {
    const { cartId, token } = await stack.cart('usr_soldout', [
      { sku: 'sku_mug', quantity: 1 },
      { sku: 'sku_sold_out', quantity: 1 },
    ]);
    const mugBefore = await stack.stock('sku_mug');
    const paymentBefore = await stack.fault('payment', {});
    const response = await checkout(cartId, token);
    assertProblem(response, 409, 'INVENTORY_CONFLICT');
    assert.equal(response.body.sku, 'sku_sold_out');
    assert.equal(
      (await stack.fault('payment', {})).requestsSeen,
      paymentBefore.requestsSeen,
      'gateway not called',
    );
    // Units still move from reserved to sold for earlier orders; none left what is available.
    assert.equal((await stack.stock('sku_mug')).available, mugBefore.available, 'no stock held');
  });

  test('402 PAYMENT_DECLINED: the card is declined and the stock is released', async () => {
    for (const paymentToken of ['pm_card_chargeDeclined', 'pm_card_chargeDeclinedInsufficientFunds']) {
      const { cartId, token } = await stack.cart(`usr_${paymentToken}`, [{ sku: 'sku_lamp', quantity: 3 }]);
      const before = await stack.stock('sku_lamp');
      assertProblem(await checkout(cartId, token, { paymentToken }), 402, 'PAYMENT_DECLINED');
      assert.equal((await stack.stock('sku_lamp')).available, before.available, 'the stock released');
      // The cart stays open: the user may try another card.
      assert.equal((await checkout(cartId, token)).status, 201);
    }
  });

  test('422 IDEMPOTENCY_KEY_MISMATCH: the same key with a different body charges nothing', async () => {
    const { cartId, token } = await stack.cart('usr_mismatch');
    const headers = { 'idempotency-key': 'key-mismatch' };
    const first = await checkout(cartId, token, { paymentToken: 'pm_card_chargeDeclined' }, headers);
    assertProblem(first, 402, 'PAYMENT_DECLINED');
    const paymentBefore = await stack.fault('payment', {});
    assertProblem(await checkout(cartId, token, {}, headers), 422, 'IDEMPOTENCY_KEY_MISMATCH');
    assert.equal((await stack.fault('payment', {})).requestsSeen, paymentBefore.requestsSeen);
    const replay = await checkout(cartId, token, { paymentToken: 'pm_card_chargeDeclined' }, headers);
    assert.equal(replay.text, first.text, 'the first outcome is replayed byte for byte');
  });

  test('409 IDEMPOTENCY_KEY_IN_USE while the first request with the key is in flight', async () => {
    const { cartId, token } = await stack.cart('usr_inflight');
    const headers = { 'idempotency-key': 'key-in-flight' };
    await stack.fault('payment', { mode: 'latency', latencyMs: 1000 });
    try {
      const first = checkout(cartId, token, {}, headers);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assertProblem(await checkout(cartId, token, {}, headers), 409, 'IDEMPOTENCY_KEY_IN_USE');
      const done = await first;
      assert.equal(done.status, 201);
      const replay = await checkout(cartId, token, {}, headers);
      assert.equal(replay.status, 201);
      assert.equal(replay.text, done.text);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
  });

  test('503 SERVICE_TEMPORARILY_UNAVAILABLE when the gateway fails, with Retry-After and an errorId', async () => {
    const { cartId, token } = await stack.cart('usr_gateway_down');
    await stack.fault('payment', { mode: 'error' });
    try {
      const response = await checkout(cartId, token);
      assertProblem(response, 503, 'SERVICE_TEMPORARILY_UNAVAILABLE');
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
  });

  test('503 SERVICE_TEMPORARILY_UNAVAILABLE when the inventory sheds load with 429, never a 500', async () => {
    const { cartId, token } = await stack.cart('usr_inventory_busy');
    await stack.fault('inventory', { mode: 'error', status: 429 });
    try {
      const response = await checkout(cartId, token);
      assertProblem(response, 503, 'SERVICE_TEMPORARILY_UNAVAILABLE');
    } finally {
      await stack.fault('inventory', { mode: 'none' });
    }
  });

  test('429 RATE_LIMITED: too many checkouts from one user', async () => {
    const token = await stack.token('usr_eager');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await checkout('00000000-0000-4000-8000-000000000000', token)).status);
    assert.deepEqual(statuses, [404, 404, 404, 404, 404]);
    assertProblem(await checkout('00000000-0000-4000-8000-000000000000', token), 429, 'RATE_LIMITED');
    // Another user is not affected.
    assertProblem(
      await checkout('00000000-0000-4000-8000-000000000000', await stack.token('usr_calm')),
      404,
      'CART_NOT_FOUND',
    );
  });

  test('429 RATE_LIMITED holds across instances: the limit is per user, not per process', async () => {
    const other = await stack.serve();
    try {
      const token = await stack.token('usr_everywhere');
      const at = (baseUrl: string) =>
        stack.api('POST', '/api/checkout/complete', {
          token,
          baseUrl,
          body: { cartId: '00000000-0000-4000-8000-000000000000', paymentToken: 'pm_card_visa' },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await at(i % 2 ? other.url : stack.info.checkoutUrl)).status);
      assert.deepEqual(statuses, [404, 404, 404, 404, 404]);
      assertProblem(await at(other.url), 429, 'RATE_LIMITED');
      assertProblem(await at(stack.info.checkoutUrl), 429, 'RATE_LIMITED');
    } finally {
      other.child.kill('SIGTERM');
      await other.exited;
    }
  });

  /** An instance of its own with small bulkheads; the request cap and the rate limit out of the way. */
  const serveWithBulkheads = (bulkheads: Record<string, string>) =>
    stack.serve({ ...bulkheads, MAX_CONCURRENT_REQUESTS: '100', CHECKOUT_RATE_LIMIT_PER_MINUTE: '1000' });

  test('overload: a checkout is refused at the door or carried to its end, never refused half-way', async () => {
    // Small bulkheads: six payment calls at most (four at once, two waiting).
    const instance = await serveWithBulkheads({ PAYMENT_MAX_CONCURRENT: '4', PAYMENT_MAX_QUEUE: '2' });
    const carts = [];
    for (let i = 0; i < 24; i++) carts.push(await stack.cart(`usr_overload_${i}`));
    await stack.fault('payment', { mode: 'latency', latencyMs: 400 });
    try {
      const responses = await Promise.all(
        carts.map(({ cartId, token }) =>
          stack.api('POST', '/api/checkout/complete', {
            token,
            baseUrl: instance.url,
            body: { cartId, paymentToken: 'pm_card_visa' },
          }),
        ),
      );
      const refused = responses.filter((r) => r.status !== 201);
      assert.ok(responses.length - refused.length >= 4, `some served: ${responses.map((r) => r.status)}`);
      assert.ok(refused.length > 0, 'the offered load was past capacity');
      for (const response of refused) assertProblem(response, 503, 'SERVER_OVERLOADED');
      // Refused at the door: nothing was reserved or recorded for them.
      for (const { cartId } of carts.filter((_, i) => responses[i]?.status !== 201)) {
        const attempts = await stack.db.query('SELECT 1 FROM checkout_attempts WHERE cart_id = $1', [cartId]);
        assert.equal(attempts.rowCount, 0, 'a refused checkout left no attempt');
      }
    } finally {
      await stack.fault('payment', { mode: 'none' });
      instance.child.kill('SIGTERM');
      await instance.exited;
    }
  });

  test("overload beside the instance's background work: the stock committer never takes a call an admitted checkout needs", async () => {
    // Three inventory calls at most (two at once, one waiting), and after every answer a batch commit
    // of the orders' stock holds one of them for as long as the inventory takes.
    const instance = await serveWithBulkheads({ INVENTORY_MAX_CONCURRENT: '2', INVENTORY_MAX_QUEUE: '1' });
    await stack.restock('sku_mug', 1000);
    await stack.fault('inventory', { mode: 'latency', latencyMs: 150 });
    const answers: ApiResponse[] = [];
    try {
      const until = Date.now() + 3000;
      const client = async (n: number) => {
        for (let i = 0; Date.now() < until; i++) {
          const { cartId, token } = await stack.cart(`usr_background_${n}_${i}`);
          answers.push(
            await stack.api('POST', '/api/checkout/complete', {
              token,
              baseUrl: instance.url,
              body: { cartId, paymentToken: 'pm_card_visa' },
            }),
          );
        }
      };
      await Promise.all(Array.from({ length: 5 }, (_, n) => client(n)));
    } finally {
      await stack.fault('inventory', { mode: 'none' });
      instance.child.kill('SIGTERM');
      await instance.exited;
    }
    assert.ok(
      answers.filter((r) => r.status === 201).length >= 3,
      `some served: ${answers.map((r) => r.status)}`,
    );
    for (const response of answers.filter((r) => r.status !== 201))
      assertProblem(response, 503, 'SERVER_OVERLOADED');
  });

  test('503 SERVER_OVERLOADED: past the concurrency cap a request is shed at once', async () => {
    const carts = [];
    for (let i = 0; i < 10; i++) carts.push(await stack.cart(`usr_crowd_${i}`));
    await stack.fault('payment', { mode: 'latency', latencyMs: 1500 });
    try {
      const responses = await Promise.all(carts.map(({ cartId, token }) => checkout(cartId, token)));
      const shed = responses.filter((r) => r.status === 503);
      assert.ok(shed.length >= 4, `expected at least 4 shed, got ${responses.map((r) => r.status)}`);
      for (const response of shed) assertProblem(response, 503, 'SERVER_OVERLOADED');
      for (const response of responses.filter((r) => r.status !== 503)) assert.equal(response.status, 201);
      // Shed requests are answered fast, not queued behind the slow ones.
      assert.ok(Math.min(...shed.map((r) => r.elapsedMs)) < 1000);
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
  });

  test('500 INTERNAL_SERVER_ERROR: a bug answers with an errorId, and the log line with that id holds the stack', async () => {
    const { cartId, token } = await stack.cart('usr_bug');
    // A deploy whose code expects a column the schema does not have: the seed article's bad-deployment 500.
    const db = new pg.Client({ connectionString: stack.info.databaseUrl });
    await db.connect();
    await db.query('ALTER TABLE products RENAME COLUMN name TO title');
    try {
      const response = await stack.api('GET', `/api/carts/${cartId}`, { token });
      assertProblem(response, 500, 'INTERNAL_SERVER_ERROR');
      const errorId = response.body.errorId;
      let line: Record<string, unknown> | undefined;
      for (let i = 0; i < 50 && !line; i++) {
        line = (await stack.log('checkout')).find((l) => l.errorId === errorId && l.stack);
        if (!line) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(line, 'a log line carries the errorId and the stack');
      assert.equal(line.level, 'error');
      assert.match(String(line.stack), /column .*name.* does not exist/);
      assert.equal(line.endpoint, 'GET /api/carts/:cartId');
      assert.equal(line.userId, 'usr_bug');
      assert.equal(line.cartId, cartId);
      assert.equal(line.requestId, response.headers.get('x-request-id'));
    } finally {
      await db.query('ALTER TABLE products RENAME COLUMN title TO name');
      await db.end();
    }
    assert.equal((await stack.api('GET', `/api/carts/${cartId}`, { token })).status, 200);
  });

  test('odd bodies get a clear 4xx and change nothing', async () => {
    const { cartId, token } = await stack.cart('usr_odd');
    const before = await stack.stock('sku_mug');
    const bodies = [
      'null',
      '[]',
      '"x"',
      '{"__proto__":{"a":1}}',
      '{"constructor":{"prototype":{}}}',
      '{"cartId":"","paymentToken":"pm_card_visa"}',
    ];
    for (const raw of [...bodies, JSON.stringify({ cartId, paymentToken: 'pm_card_visa', extra: 1 })]) {
      const response = await stack.api('POST', '/api/checkout/complete', { token, raw });
      assert.ok(response.status === 400, `${raw} -> ${response.status}`);
      assert.match(String(response.body.error), /^(INVALID_JSON|VALIDATION_FAILED)$/);
    }
    assertProblem(
      await stack.api('POST', '/api/checkout/complete', {
        token,
        body: { cartId, paymentToken: 'pm_card_nope' },
      }),
      400,
      'PAYMENT_METHOD_INVALID',
    );
    assertProblem(
      await stack.api('POST', `/api/carts/${cartId}/items`, {
        token,
        body: { sku: 'sku_nope', quantity: 1 },
      }),
      400,
      'UNKNOWN_SKU',
    );
    assert.deepEqual(await stack.stock('sku_mug'), before);
    assert.equal((await stack.api('GET', `/api/carts/${cartId}`, { token })).body.status, 'open');
    assert.equal(
      (
        await stack.api('POST', '/api/checkout/complete', {
          token,
          body: { cartId, paymentToken: 'pm_card_visa' },
        })
      ).status,
      201,
    );
  });

  test('X-Request-Id: echoed when sent, made when not', async () => {
    const given = await stack.api('GET', '/health/live', { headers: { 'x-request-id': 'req-abc.123' } });
    assert.equal(given.headers.get('x-request-id'), 'req-abc.123');
    const made = await stack.api('GET', '/nowhere');
    assert.equal(made.status, 404);
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('GET /openapi.json: lint-clean (Redocly, recommended rules), each operation named, each error code listed', async () => {
    const response = await stack.api('GET', '/openapi.json', { token: null });
    assert.equal(response.status, 200);
    assert.equal(response.body.openapi, '3.1.0');
    const file = join(stack.dataDir, 'openapi.json');
    await writeFile(file, response.text);
    const lint = spawnSync(join('node_modules', '.bin', 'redocly'), ['lint', file, '--format=json'], {
      encoding: 'utf8',
    });
    assert.equal(lint.error, undefined, 'redocly must be installed (npm ci)');
    const report = JSON.parse(lint.stdout) as {
      totals: { errors: number; warnings: number };
      problems: unknown[];
    };
    assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 }, JSON.stringify(report.problems));

    const paths = response.body.paths as Record<
      string,
      Record<string, { operationId: string; responses: Record<string, ProblemResponseDoc> }>
    >;
    const operations = Object.values(paths).flatMap((byMethod) => Object.values(byMethod));
    assert.deepEqual(operations.map((o) => o.operationId).sort(), [
      'addCartItem',
      'completeCheckout',
      'createCart',
      'getCart',
      'getOrder',
      'receiveStripeEvent',
    ]);
    const checkoutOp = paths['/api/checkout/complete']?.post;
    assert.ok(checkoutOp);
    const codes = (status: string) =>
      checkoutOp.responses[status]?.content['application/problem+json']?.schema.properties.error.enum;
    assert.deepEqual(codes('402'), ['PAYMENT_DECLINED']);
    assert.deepEqual(codes('503'), ['SERVER_OVERLOADED', 'SHUTTING_DOWN', 'SERVICE_TEMPORARILY_UNAVAILABLE']);
    assert.ok(checkoutOp.responses['503']?.headers['retry-after'], 'a 503 says when to retry');
    assert.ok(checkoutOp.responses['201']?.headers['idempotent-replayed']);
    assert.ok(
      checkoutOp.responses['409']?.content['application/problem+json']?.examples.IDEMPOTENCY_KEY_IN_USE,
      'an example body for each code',
    );
  });

  test('the document names where clients reach the service: PUBLIC_URL, behind a proxy or a load balancer', async () => {
    const instance = await stack.serve({ PUBLIC_URL: 'https://shop.example.com/checkout' });
    try {
      const document = await stack.api('GET', '/openapi.json', { token: null, baseUrl: instance.url });
      assert.deepEqual(document.body.servers, [{ url: 'https://shop.example.com/checkout' }]);
      // Without PUBLIC_URL, the address the instance listens on (the stack's own checkout port).
      const local = await stack.api('GET', '/openapi.json', { token: null });
      assert.deepEqual(local.body.servers, [{ url: stack.info.checkoutUrl }]);
    } finally {
      instance.child.kill('SIGTERM');
      await instance.exited;
    }
  });

  test("the inventory's batch commit refuses a body of the wrong shape and changes nothing", async () => {
    const reservationId = `res-${Date.now()}`;
    const reserve = await fetch(`${stack.info.inventoryUrl}/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reservationId, items: [{ sku: 'sku_mug', quantity: 1 }], ttlSeconds: 60 }),
    });
    assert.equal(reserve.status, 201);
    const commit = (body: string) =>
      fetch(`${stack.info.inventoryUrl}/reservations/commit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    for (const body of [
      '{}',
      '{"reservationIds": []}',
      '{"reservationIds": "res-1"}',
      `{"reservationIds": [${JSON.stringify(reservationId)}, 7]}`,
      // One over the batch's 500, short enough for this stack's body limit.
      JSON.stringify({ reservationIds: Array.from({ length: 501 }, () => 'r') }),
      '{"reservationIds": [',
    ]) {
      const answer = await commit(body);
      assert.equal(answer.status, 400, `${body.slice(0, 60)}: ${await answer.text()}`);
    }
    const before = await stack.stock('sku_mug');
    const committed = await commit(JSON.stringify({ reservationIds: [reservationId, 'res-unknown'] }));
    assert.equal(committed.status, 200);
    assert.deepEqual(((await committed.json()) as { committed: string[] }).committed, [reservationId]);
    const after = await stack.stock('sku_mug');
    assert.deepEqual(
      [after.reserved, after.sold],
      [before.reserved - 1, before.sold + 1],
      'only the valid one, once',
    );
  });
});
