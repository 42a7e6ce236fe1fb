import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import qs from 'qs';
import { Client } from 'undici';
import { DEMO_PRODUCTS } from '../src/stack/demoData.ts';
import {
  cartPlan,
  contentTypeValue,
  edgeNumber,
  headerValue,
  hostileClaims,
  hostileJoseHeader,
  hostileJsonValue,
  hostileString,
  NUMBER_TEXTS,
  pathSegment,
  payloadText,
  percentEncode,
  type RawRequest,
  rawRequest,
  signHs256,
  traceparentValue,
  withRawMember,
} from './support/adversarial.ts';
import { ApiContract, type ApiDocument } from './support/apiContract.ts';
import { type RawAnswer, sendRaw } from './support/rawHttp.ts';
import { type Answer, checkInventoryAnswer, checkPaymentAnswer } from './support/sandboxContract.ts';
import { assertSanitized } from './support/sanitized.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// Generated requests against every route of the checkout service and of both sandboxes, written as an
// adversary would (test/support/adversarial.ts): text over the whole code point range, numbers past the
// limits of what stores them, correctly signed tokens with odd claims, carts filled past every sum, header
// values HTTP clients refuse to write (sent byte by byte). Every answer must be a documented 2xx or 4xx in
// the service's own contract, never a 5xx, never an internal; after every batch no breaker of the checkout
// is open and no call to a dependency failed; at the end the services are well and reconcile is clean.
//
// HTTP_FUZZ_RUNS sets the number of requests, about, shared among the properties (5,000 by default, as
// long as the 10,000 simpler ones of before took; `npm run fuzz` 100,000). Each property prints its seed; FUZZ_SEED=<seed> replays a run, and FUZZ_PATH=<path> with
// --test-name-pattern=<its test> replays the failure it reports.
const BUDGET = Number(process.env.HTTP_FUZZ_RUNS ?? 5_000);
const SEED =
  process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED);
const REPLAY_PATH = process.env.FUZZ_PATH;
/** Requests between two looks at the checkout's breakers and dependency calls. */
const BATCH = 250;
const runsOf = (share: number) => Math.max(10, Math.round(BUDGET * share));

const SKUS = DEMO_PRODUCTS.map((p) => p.sku);
const TEST_TOKENS = [
  'pm_card_visa',
  'pm_card_mastercard',
  'pm_card_chargeDeclined',
  'pm_card_chargeDeclinedInsufficientFunds',
];
/** A SKU the inventory fuzz finds a few restocks short of the most units a SKU can count. */
const NEARLY_FULL_SKU = 'sku_fuzz_nearly_full';

/**
 * A path with a dot segment (`.`, `..`, or one percent-encoded): the contract matches the document's paths
 * after resolving them, as a client would, but the server routes the path as it was sent (`GET
 * /api/carts/./items` is no route, not a cart), so such a path is judged by its status and shape only.
 */
const DOT_SEGMENT = /(^|\/)(\.|%2e)(\.|%2e)?(\/|\?|$)/i;

const unsignedToken = (claims: object) =>
  `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

/** A header value undici will write: what is outside latin1, and controls but tab, become `?`. */
function asHeader(value: string): string {
  return value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}

/** Every string a request carried (values and keys, decoded path segments), to tell an echo from a leak. */
function sentStrings(...parts: unknown[]): string[] {
  const found: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') {
      found.push(value);
      try {
        walk(JSON.parse(value));
      } catch {}
      for (const piece of value.split(/[/?&=]/)) {
        try {
          found.push(decodeURIComponent(piece));
        } catch {}
      }
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        found.push(key);
        walk(inner);
      }
    }
  };
  parts.forEach(walk);
  return found.filter((s) => s.length >= 3);
}

/**
 * Nothing of the service's internals in the answer. What the request itself sent may come back (a SKU
 * named in UNKNOWN_SKU, a token in "No such token"), whole or cut: that is an echo, not a leak.
 */
function assertNoLeak(text: string, sent: readonly string[]): void {
  let rest = text;
  for (const s of sent) {
    const cut = Array.from(s).slice(0, 64).join('');
    for (const form of [JSON.stringify(s).slice(1, -1), s, JSON.stringify(cut).slice(1, -1), cut])
      rest = rest.split(form).join('');
  }
  assertSanitized(rest);
}

/**
 * Runs a property with the run's seed, and on failure says how to replay it. With FUZZ_KEEP_GOING=1 a
 * failure does not end the run: each kind of failure (its message, less the ids and numbers in it) is
 * kept with the path of its first occurrence, and all are listed at the end (a long run's survey).
 */
async function fuzz<T>(
  t: TestContext,
  arbitrary: fc.Arbitrary<T>,
  numRuns: number,
  predicate: (value: T) => Promise<void>,
  options: { shrink?: boolean } = {},
): Promise<void> {
  t.diagnostic(`seed ${SEED}, ${numRuns} runs (FUZZ_SEED=${SEED} replays them)`);
  const replay = (path: string) =>
    `FUZZ_SEED=${SEED} FUZZ_PATH=${path} node --test --test-name-pattern='${t.name}' test/httpFuzz.test.ts`;
  const kinds = new Map<string, { path: number; count: number; message: string }>();
  let run = 0;
  const surveyed = async (value: T) => {
    const path = run++;
    try {
      await predicate(value);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const kind = message
        .split('\n')[0]
        ?.replace(/[0-9a-f]{8}-[0-9a-f-]{27}|\d+|"[^"]*"/g, '#')
        .slice(0, 90) as string;
      const seen = kinds.get(kind) ?? { path, count: 0, message };
      seen.count++;
      kinds.set(kind, seen);
    }
  };
  const keepGoing = process.env.FUZZ_KEEP_GOING === '1';
  const details = await fc.check(fc.asyncProperty(arbitrary, keepGoing ? surveyed : predicate), {
    seed: SEED,
    numRuns,
    endOnFailure: keepGoing || options.shrink === false,
    ...(REPLAY_PATH ? { path: REPLAY_PATH } : {}),
  });
  if (kinds.size > 0) {
    assert.fail(
      [...kinds.values()]
        .map(
          (k) =>
            `${k.count}× first at path ${k.path} (replay: ${replay(String(k.path))}):\n  ${k.message.slice(0, 1500)}`,
        )
        .join('\n\n'),
    );
  }
  if (!details.failed) return;
  const error = details.errorInstance;
  assert.fail(
    [
      `${t.name}: failed after ${details.numRuns} runs, seed ${details.seed}, path ${details.counterexamplePath}`,
      `  replay: ${replay(details.counterexamplePath ?? '')}`,
      `  counterexample: ${fc.stringify(details.counterexample).slice(0, 3000)}`,
      `  ${error instanceof Error ? error.message : String(error)}`,
    ].join('\n'),
  );
}

/** Calls to dependencies that did not succeed, by the checkout's own count. */
async function dependencyFailures(checkoutUrl: string): Promise<number> {
  const text = await (await fetch(`${checkoutUrl}/metrics`)).text();
  let failed = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('dependency_calls_total{') && !line.includes('outcome="success"'))
      failed += Number(line.split(' ').at(-1));
  }
  return failed;
}

/**
 * Looks at the checkout after every batch of requests: its breakers must all be closed, and no call it made
 * to a dependency may have failed since the fuzz began (a 5xx of a sandbox counts, even one the checkout
 * answered as a 4xx). On failure it lists the batch's requests, since any of them may be the cause.
 */
class BatchWatch {
  readonly #checkoutUrl: string;
  #recent: string[] = [];
  #baseline: number | undefined;

  constructor(checkoutUrl: string) {
    this.#checkoutUrl = checkoutUrl;
  }

  async start(): Promise<void> {
    this.#baseline = await dependencyFailures(this.#checkoutUrl);
  }

  async seen(request: string): Promise<void> {
    this.#recent.push(request.slice(0, 200));
    if (this.#recent.length >= BATCH) await this.check();
  }

  async check(): Promise<void> {
    const health = (await (await fetch(`${this.#checkoutUrl}/health`)).json()) as {
      circuitBreakers?: Record<string, string>;
    };
    const open = Object.entries(health.circuitBreakers ?? {}).filter(([, state]) => state !== 'CLOSED');
    const failures = (await dependencyFailures(this.#checkoutUrl)) - (this.#baseline ?? 0);
    const batch = `the batch's requests:\n    ${this.#recent.join('\n    ')}`;
    this.#recent = [];
    assert.deepEqual(open, [], `a breaker of the checkout is not closed; ${batch}`);
    assert.equal(failures, 0, `calls of the checkout to a dependency failed (${failures}); ${batch}`);
  }
}

describe('HTTP fuzzing, as an adversary: documented answers only, never a 5xx, no breaker opened', () => {
  let stack: TestStack;
  let contract: ApiContract;
  let client: Client;
  let racer: Client;
  let payment: Client;
  let inventory: Client;
  let watch: BatchWatch;
  let tokens: Record<string, string | undefined>;
  let cartId: string;
  let jwtSecret: string;
  let paymentKey: string;
  const statuses = new Map<number, number>();
  const tokenTarget = () => ({
    issuer: 'steadfast',
    audience: 'steadfast-checkout',
    now: Math.floor(Date.now() / 1000),
    maxTtlSeconds: 30 * 24 * 3600,
  });

  before(async () => {
    stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000000' });
    contract = new ApiContract(
      (await (await fetch(`${stack.info.checkoutUrl}/openapi.json`)).json()) as ApiDocument,
    );
    client = new Client(stack.info.checkoutUrl);
    racer = new Client(stack.info.checkoutUrl);
    payment = new Client(stack.info.paymentUrl);
    inventory = new Client(stack.info.inventoryUrl);
    watch = new BatchWatch(stack.info.checkoutUrl);
    // Checkouts that succeed sell stock: enough of it that the fuzz reaches the charge, not only a 409.
    for (const sku of SKUS.filter((s) => s !== 'sku_sold_out')) await stack.restock(sku, 1_000_000);
    await stack.restock(NEARLY_FULL_SKU, 1);
    const inventoryDb = new pg.Client({
      connectionString: Object.assign(new URL(stack.info.databaseUrl), { pathname: '/inventory' }).toString(),
    });
    await inventoryDb.connect();
    await inventoryDb.query('UPDATE stock SET initial = 2147000000, available = 2147000000 WHERE sku = $1', [
      NEARLY_FULL_SKU,
    ]);
    await inventoryDb.end();
    const owner = await stack.cart('usr_fuzz_owner', [{ sku: 'sku_mug', quantity: 1 }]);
    cartId = owner.cartId;
    const { signToken } = await import('../src/checkout/auth.ts');
    const secrets = JSON.parse(await readFile(join(stack.dataDir, 'secrets.json'), 'utf8')) as {
      jwtSecret: string;
      paymentApiKey: string;
    };
    jwtSecret = secrets.jwtSecret;
    paymentKey = secrets.paymentApiKey;
    const now = Math.floor(Date.now() / 1000);
    const signed = (claims: Record<string, unknown>, header?: unknown) =>
      `Bearer ${signHs256(jwtSecret, { iss: 'steadfast', aud: 'steadfast-checkout', iat: now - 5, exp: now + 3600, ...claims }, header)}`;
    tokens = {
      owner: `Bearer ${owner.token}`,
      stranger: `Bearer ${await stack.token('usr_fuzz_stranger')}`,
      expired: `Bearer ${await signToken(jwtSecret, 'usr_fuzz_owner', '1h ago')}`,
      algNone: `Bearer ${unsignedToken({ sub: 'usr_fuzz_owner', exp: 4102444800 })}`,
      garbage: 'Bearer not.a.token',
      huge: `Bearer ${'a'.repeat(12_000)}`,
      basic: 'Basic dXNlcjpwYXNz',
      lowerScheme: `bearer ${owner.token}`,
      // Correctly signed, so that what the service meets is the claim, not a bad signature.
      subNumber: signed({ sub: 12345 }),
      subArray: signed({ sub: ['usr_fuzz_owner'] }),
      subObject: signed({ sub: { id: 'usr_fuzz_owner' } }),
      subLong: signed({ sub: 'u'.repeat(600) }),
      subControl: signed({ sub: 'usr_fuzz\u0000owner' }),
      subBidi: signed({ sub: 'usr_fuzz_owner\u202e' }),
      audArray: signed({ sub: 'usr_fuzz_owner', aud: ['other', 'steadfast-checkout'] }),
      noExp: signed({ sub: 'usr_fuzz_owner', exp: undefined }),
      expHuge: signed({ sub: 'usr_fuzz_owner', exp: 1e308 }),
      critExp: signed({ sub: 'usr_fuzz_owner' }, { alg: 'HS256', crit: ['exp'] }),
      none: undefined,
    };
    await watch.start();
  });
  after(async () => {
    await Promise.all([client?.close(), racer?.close(), payment?.close(), inventory?.close()]);
    await stack?.stop();
  });

  /** One request to the checkout, judged: never a 5xx, nothing leaked, problem+json, its OpenAPI document. */
  async function checkout(
    r: {
      method: string;
      url: string;
      headers: Record<string, string | string[]>;
      body?: string | undefined;
    },
    over: Client = client,
  ): Promise<{ status: number; text: string; headers: Headers }> {
    const response = await over.request({
      path: r.url,
      method: r.method as 'GET',
      headers: r.headers,
      body: r.body,
    });
    const text = await response.body.text();
    const status = response.statusCode;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const where = `${r.method} ${r.url.slice(0, 160)} answered ${status}: ${text.slice(0, 300)}${r.body ? `\n  request body: ${r.body.slice(0, 600)}` : ''}`;
    await watch.seen(`${r.method} ${r.url} ${r.body?.slice(0, 80) ?? ''} -> ${status}`);
    assert.ok(status < 500, `never a 5xx: ${where}`);
    // The metrics are the operator's, names of what the service runs on included (scraped, never shown a user).
    if (!r.url.startsWith('/metrics'))
      assertNoLeak(text, sentStrings(r.url, r.body, Object.values(r.headers)));
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers))
      if (typeof value === 'string') headers.set(name, value);
    if (status >= 400 && r.method !== 'HEAD') {
      assert.match(headers.get('content-type') ?? '', /^application\/problem\+json/, where);
      assert.match(String((JSON.parse(text) as { error?: unknown }).error), /^[A-Z_]+$/, where);
    }
    if (r.method !== 'HEAD' && !DOT_SEGMENT.test(r.url))
      contract.check(r.method, r.url, { status, headers, text });
    return { status, text, headers };
  }

  test('checkout: generated requests to every route', async (t) => {
    const id = fc.oneof(
      fc.constant(() => cartId),
      fc.uuid().map((u) => () => u),
      hostileString({ maxLength: 80 }).map((s) => () => percentEncode(s)),
      pathSegment.map((s) => () => s),
    );
    const scalar = fc.oneof(
      { weight: 3, arbitrary: hostileString() },
      { weight: 3, arbitrary: edgeNumber },
      { weight: 1, arbitrary: fc.boolean() },
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: hostileJsonValue },
    );
    const checkoutBody = fc.record(
      {
        cartId: fc.oneof(
          id.map((f) => decodeURIComponentOr(f())),
          scalar,
        ),
        paymentToken: fc.oneof(
          fc.constantFrom(...TEST_TOKENS, ''),
          hostileString({ maxLength: 300 }),
          scalar,
        ),
        userId: fc.oneof(fc.constant('usr_fuzz_stranger'), fc.constant('usr_fuzz_owner'), scalar),
        sku: fc.oneof(
          fc.constantFrom('sku_mug', 'sku_sold_out', ...SKUS),
          hostileString({ maxLength: 70 }),
          scalar,
        ),
        quantity: fc.oneof(fc.integer({ min: -5, max: 2000 }), edgeNumber, scalar),
        amountCents: scalar,
        price: scalar,
        status: scalar,
      },
      { requiredKeys: [] },
    );
    // What the add-item route takes, and no more: the requests that reach its statements.
    const itemBody = fc.record({
      sku: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...SKUS) },
        { weight: 1, arbitrary: hostileString() },
      ),
      quantity: fc.oneof(fc.integer({ min: 1, max: 1000 }), edgeNumber),
    });
    // Keys that pollute a prototype when a body is merged carelessly, written into the JSON text itself.
    const polluted = fc
      .tuple(
        checkoutBody,
        fc.constantFrom('"__proto__":{"admin":true}', '"constructor":{"prototype":{"admin":true}}'),
      )
      .map(([b, key]) => JSON.stringify(b).replace(/^\{/, `{${key}${Object.keys(b).length ? ',' : ''}`));
    const rawNumber = fc
      .tuple(itemBody, fc.constantFrom('quantity', 'sku', 'cartId'), fc.constantFrom(...NUMBER_TEXTS))
      .map(([b, key, text]) => withRawMember(b, key, text));
    const body = fc.oneof(
      { weight: 3, arbitrary: checkoutBody.map((b) => JSON.stringify(b)) },
      { weight: 3, arbitrary: itemBody.map((b) => JSON.stringify(b)) },
      { weight: 1, arbitrary: polluted },
      { weight: 1, arbitrary: rawNumber },
      { weight: 1, arbitrary: fc.json({ depthSize: 'medium' }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '{',
          '[]',
          'null',
          '{"cartId": 1e999}',
          '{"a":'.repeat(500),
          `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
          '\ufeff{}',
          '{"sku":"sku_mug","quantity":1}{"sku":"sku_mug","quantity":1}',
        ),
      },
      { weight: 1, arbitrary: fc.constant(JSON.stringify({ cartId: 'x'.repeat(70_000) })) },
      { weight: 2, arbitrary: fc.constant(undefined) },
    );
    const path = fc.oneof(
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          '/api/carts',
          '/api/checkout/complete',
          '/api/orders',
          '/api',
          '/',
          '/openapi.json',
          '/docs',
          '/docs/json',
          '/dashboard',
          '/dashboard/data',
          '/health',
          '/metrics',
        ),
      },
      {
        weight: 4,
        arbitrary: fc
          .tuple(
            fc.constantFrom('/api/carts/', '/api/orders/'),
            id,
            fc.constantFrom('', '/items', '/x/y', '/'),
          )
          .map(
            ([prefix, make, suffix]) =>
              () =>
                `${prefix}${make()}${suffix}`,
          ),
      },
      // Files of the API reference: a static file server under the service's own error handler.
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom('/docs/static/', '/docs/', '/dashboard/'), pathSegment)
          .map(([prefix, segment]) => `${prefix}${segment}`),
      },
      { weight: 1, arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)) },
    );
    const query = fc.oneof(
      fc.webQueryParameters(),
      fc
        .array(fc.tuple(hostileString({ maxLength: 20 }), hostileString({ maxLength: 40 })), { maxLength: 3 })
        .map((pairs) => pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')),
    );
    const signedClaims = fc
      .tuple(
        payloadText(hostileClaims(tokenTarget(), fc.constantFrom('usr_fuzz_owner', 'usr_fuzz_stranger'))),
        hostileJoseHeader,
      )
      .map(([payload, header]) => `Bearer ${signHs256(jwtSecret, payload, header)}`);
    const requestArb = fc.record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
      path,
      query: fc.option(query, { nil: undefined }),
      auth: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('owner', 'owner', 'owner', 'stranger') },
        { weight: 3, arbitrary: fc.constantFrom(...Object.keys(tokens)) },
        { weight: 2, arbitrary: signedClaims },
      ),
      contentType: contentTypeValue,
      body,
      idempotencyKey: fc.option(fc.oneof(headerValue, fc.constantFrom('k-1', 'k-2')), { nil: undefined }),
      requestId: fc.option(headerValue, { nil: undefined }),
      traceparent: fc.option(traceparentValue, { nil: undefined }),
      duplicateHeaders: fc.boolean(),
    });

    await fuzz(t, requestArb, runsOf(0.6), async (r) => {
      const url = `${typeof r.path === 'function' ? r.path() : r.path}${r.query ? `?${r.query}` : ''}`;
      const headers: Record<string, string | string[]> = {};
      const auth = r.auth in tokens ? tokens[r.auth] : r.auth;
      if (auth) headers.authorization = asHeader(auth);
      if (r.contentType !== undefined && r.body !== undefined) headers['content-type'] = r.contentType;
      if (r.idempotencyKey !== undefined) headers['idempotency-key'] = asHeader(r.idempotencyKey);
      if (r.requestId !== undefined) headers['x-request-id'] = asHeader(r.requestId);
      if (r.traceparent !== undefined) headers.traceparent = asHeader(r.traceparent);
      // The same header twice, with different values: which one counts must not be a server error.
      if (r.duplicateHeaders) {
        headers['idempotency-key'] = ['dup-1', 'dup-2'];
        headers['x-request-id'] = ['req-1', 'req-2'];
        if (auth) headers.authorization = [asHeader(auth), 'Bearer other'];
      }
      const sendsBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
      await checkout({ method: r.method, url, headers, body: sendsBody ? r.body : undefined });
    });
  });

  test('checkout: carts filled and checked out with tokens of odd claims', async (t) => {
    const outcomes = new Map<number, number>();
    const flow = fc.record({
      payload: payloadText(
        hostileClaims(
          tokenTarget(),
          fc.uuid().map((u) => `usr_flow_${u.slice(0, 8)}`),
        ),
      ),
      header: hostileJoseHeader,
      scheme: fc.constantFrom('Bearer ', 'Bearer ', 'Bearer ', 'bearer ', 'BEARER ', 'Bearer  '),
      plan: cartPlan(SKUS),
      paymentToken: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...TEST_TOKENS, 'pm_card_visa', 'pm_card_visa') },
        { weight: 1, arbitrary: hostileString({ maxLength: 255 }) },
      ),
      idempotencyKey: fc.option(headerValue, { nil: undefined }),
      retries: fc.integer({ min: 0, max: 2 }),
    });
    await fuzz(
      t,
      flow,
      runsOf(0.01),
      async (f) => {
        const authorization = asHeader(`${f.scheme}${signHs256(jwtSecret, f.payload, f.header)}`);
        const json = { 'content-type': 'application/json' };
        const created = await checkout({ method: 'POST', url: '/api/carts', headers: { authorization } });
        if (created.status !== 201) return;
        const cart = (JSON.parse(created.text) as { cartId: string }).cartId;
        const items = (text: string) => JSON.stringify((JSON.parse(text) as { items?: unknown }).items);
        let refusals = 0;
        let before = '[]';
        for (const add of f.plan) {
          const added = await checkout({
            method: 'POST',
            url: `/api/carts/${cart}/items`,
            headers: { authorization, ...json },
            body: JSON.stringify(add),
          });
          if (added.status === 200) {
            before = items(added.text);
            continue;
          }
          // Refused input changed nothing.
          const after = await checkout({
            method: 'GET',
            url: `/api/carts/${cart}`,
            headers: { authorization },
          });
          if (after.status === 200)
            assert.equal(items(after.text), before, `a refused add (${added.status}) changed the cart`);
          if (++refusals > 1) break;
        }
        const read = await checkout({ method: 'GET', url: `/api/carts/${cart}`, headers: { authorization } });
        const total = (JSON.parse(read.text) as { totalCents?: number }).totalCents;
        const request = {
          method: 'POST',
          url: '/api/checkout/complete',
          headers: {
            authorization,
            ...json,
            ...(f.idempotencyKey === undefined ? {} : { 'idempotency-key': asHeader(f.idempotencyKey) }),
          },
          body: JSON.stringify({ cartId: cart, paymentToken: f.paymentToken }),
        };
        const first = await checkout(request);
        outcomes.set(first.status, (outcomes.get(first.status) ?? 0) + 1);
        for (let i = 0; i < f.retries; i++) {
          const again = await checkout(request);
          // A final answer under a key is the answer to every retry with it, byte for byte.
          const final =
            first.status === 201 || (first.status >= 400 && first.status !== 409 && first.status !== 429);
          if (f.idempotencyKey !== undefined && final && first.status !== 400) {
            assert.equal(
              again.status,
              first.status,
              `a retry with the key got another answer: ${again.text}`,
            );
            assert.equal(again.text, first.text, 'a retry with the key got other bytes');
          }
        }
        if (first.status !== 201) return;
        const { orderId } = JSON.parse(first.text) as { orderId: string };
        const order = await checkout({
          method: 'GET',
          url: `/api/orders/${orderId}`,
          headers: { authorization },
        });
        assert.equal(order.status, 200, order.text);
        assert.equal((JSON.parse(order.text) as { amountCents: number }).amountCents, total, order.text);
      },
      { shrink: false },
    );
    t.diagnostic(`checkouts answered: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });

  test('checkout: an add racing the checkout of its cart', async (t) => {
    // What a double click, or two tabs, does: the order must hold what its cart holds once checked out.
    const race = fc.record({
      first: fc.constantFrom(...SKUS.filter((s) => s !== 'sku_sold_out')),
      added: fc.constantFrom(...SKUS.filter((s) => s !== 'sku_sold_out')),
      quantity: fc.integer({ min: 1, max: 5 }),
      delayMs: fc.integer({ min: 0, max: 12 }),
      user: fc.uuid(),
    });
    await fuzz(t, race, runsOf(0.004), async (r) => {
      const authorization = `Bearer ${await stack.token(`usr_race_${r.user.slice(0, 8)}`)}`;
      const json = { authorization, 'content-type': 'application/json' };
      const created = await checkout({ method: 'POST', url: '/api/carts', headers: { authorization } });
      const cart = (JSON.parse(created.text) as { cartId: string }).cartId;
      const items = `/api/carts/${cart}/items`;
      await checkout({
        method: 'POST',
        url: items,
        headers: json,
        body: JSON.stringify({ sku: r.first, quantity: 1 }),
      });
      const [done, added] = await Promise.all([
        checkout({
          method: 'POST',
          url: '/api/checkout/complete',
          headers: json,
          body: JSON.stringify({ cartId: cart, paymentToken: 'pm_card_visa' }),
        }),
        // Over a connection of its own: one connection carries one request at a time.
        new Promise((resolve) => setTimeout(resolve, r.delayMs)).then(() =>
          checkout(
            {
              method: 'POST',
              url: items,
              headers: json,
              body: JSON.stringify({ sku: r.added, quantity: r.quantity }),
            },
            racer,
          ),
        ),
      ]);
      if (done.status !== 201) return;
      const { orderId } = JSON.parse(done.text) as { orderId: string };
      const order = JSON.parse(
        (await checkout({ method: 'GET', url: `/api/orders/${orderId}`, headers: { authorization } })).text,
      ) as {
        items: { sku: string; quantity: number }[];
        amountCents: number;
      };
      const after = JSON.parse(
        (await checkout({ method: 'GET', url: `/api/carts/${cart}`, headers: { authorization } })).text,
      ) as {
        status: string;
        items: { sku: string; quantity: number }[];
        totalCents: number;
      };
      const lines = (list: { sku: string; quantity: number }[]) =>
        JSON.stringify(
          list.map(({ sku, quantity }) => ({ sku, quantity })).sort((a, b) => a.sku.localeCompare(b.sku)),
        );
      const story = `the add answered ${added.status}; order ${lines(order.items)} for ${order.amountCents}, cart (${after.status}) ${lines(after.items)} for ${after.totalCents}`;
      assert.equal(after.status, 'checked_out', story);
      assert.equal(
        lines(after.items),
        lines(order.items),
        `a checked-out cart holds what its order does not: ${story}`,
      );
      assert.equal(after.totalCents, order.amountCents, story);
    });
  });

  test('checkout and sandboxes: requests written byte by byte', async (t) => {
    const services = {
      checkout: {
        url: () => stack.info.checkoutUrl,
        paths: fc.oneof(
          fc.constantFrom('/api/carts', '/api/checkout/complete', '/openapi.json', '/health'),
          fc.constant(null).map(() => `/api/carts/${cartId}`),
          pathSegment.map((s) => `/api/orders/${s}`),
        ),
        authorizations: ['owner', 'stranger', 'none'] as const,
      },
      payment: {
        url: () => stack.info.paymentUrl,
        paths: fc.oneof(
          fc.constantFrom('/v1/payment_intents', '/v1/refunds'),
          pathSegment.map((s) => `/v1/payment_intents/${s}`),
        ),
        authorizations: ['key', 'none'] as const,
      },
      inventory: {
        url: () => stack.info.inventoryUrl,
        paths: fc.oneof(
          fc.constantFrom('/stock', '/reservations', '/reservations/commit'),
          pathSegment.map((s) => `/reservations/${s}/release`),
        ),
        authorizations: ['none'] as const,
      },
    };
    const bodies = fc.oneof(
      fc.constant(undefined),
      fc.constant(null).map(() => JSON.stringify({ cartId, paymentToken: 'pm_card_visa' })),
      fc.constant('amount=100&currency=usd&payment_method=pm_card_chargeDeclined&confirm=true'),
      fc.json({ depthSize: 'small' }),
    );
    const raw = fc.constantFrom('checkout', 'checkout', 'payment', 'inventory').chain((name) => {
      const service = services[name as keyof typeof services];
      return rawRequest({
        host: new URL(service.url()).host,
        paths: service.paths,
        authorizations: service.authorizations.map((a) =>
          a === 'key' ? `Bearer ${paymentKey}` : a === 'none' ? undefined : tokens[a],
        ),
        bodies,
      }).map((request) => ({ name, request }));
    });
    await fuzz(t, raw, runsOf(0.08), async ({ name, request }: { name: string; request: RawRequest }) => {
      const url = services[name as keyof typeof services].url();
      const { answers, unparsed, timedOut } = await sendRaw(url, request.bytes);
      // The service, method and version first: what a survey of failures groups them by.
      const version = request.bytes.slice(0, request.bytes.indexOf('\r\n')).split(' ').at(-1);
      const sent = `${name} ${request.method} ${version}`;
      const bytes = `\n  request: ${JSON.stringify(request.bytes.slice(0, 600))}`;
      await watch.seen(`${sent} ${JSON.stringify(request.bytes.slice(0, 150))}`);
      const final = answers.filter((a) => a.status >= 200);
      assert.ok(!timedOut, `${sent}: the connection was left open${bytes}`);
      assert.ok(final.length > 0, `${sent}: no answer (${JSON.stringify(unparsed.slice(0, 200))})${bytes}`);
      for (const answer of final) {
        try {
          judgeRaw(name, request, answer);
        } catch (error) {
          if (error instanceof Error) error.message = `${sent}: ${error.message}${bytes}`;
          throw error;
        }
      }
    });
  });

  /** A raw answer against its service's contract. */
  function judgeRaw(name: string, request: RawRequest, answer: RawAnswer): void {
    const where = `answered ${answer.status} ${JSON.stringify(answer.text.slice(0, 200))}`;
    assert.ok(answer.status < 500, `never a 5xx: ${where}`);
    if (!request.target.includes('/metrics')) assertNoLeak(answer.text, sentStrings(request.bytes));
    const path = request.target.startsWith('/') ? request.target : '/';
    const head = request.method === 'HEAD';
    if (name === 'checkout') {
      if (answer.status >= 400 && !head) {
        assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/, where);
        assert.match(String((JSON.parse(answer.text) as { error?: unknown }).error), /^[A-Z_]+$/, where);
      }
      if (!head && request.target.startsWith('/') && !DOT_SEGMENT.test(path))
        contract.check(request.method, path, { ...answer });
      return;
    }
    const judged: Answer = { method: request.method, url: path, ...answer };
    if (name === 'payment') checkPaymentAnswer(judged);
    else checkInventoryAnswer(judged);
  }

  test('checkout: afterwards healthy, breakers closed, reconcile clean, every kind of answer reached', async () => {
    await watch.check();
    const health = await stack.api('GET', '/health', { token: null });
    assert.equal(health.status, 200, health.text);
    const reconciled = await stack.reconcile();
    assert.equal(reconciled.code, 0, reconciled.stdout);
    const seen = JSON.stringify(Object.fromEntries(statuses));
    for (const status of [200, 201, 400, 401, 404, 415, 422])
      assert.ok((statuses.get(status) ?? 0) > 0, `the requests reached ${status} too: ${seen}`);
  });

  /** One request to a sandbox, judged against its contract; every string it carried counts as sent. */
  async function sandbox(
    target: Client,
    check: (answer: Answer) => void,
    r: { method: string; url: string; headers: Record<string, string>; body?: string | undefined },
  ): Promise<Answer> {
    const response = await target.request({
      path: r.url,
      method: r.method as 'GET',
      headers: r.headers,
      body: r.body,
    });
    const text = await response.body.text();
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers))
      if (typeof value === 'string') headers.set(name, value);
    const answer = { method: r.method, url: r.url, status: response.statusCode, headers, text };
    await watch.seen(`${r.method} ${r.url} ${r.body?.slice(0, 80) ?? ''} -> ${answer.status}`);
    try {
      check(answer);
    } catch (error) {
      // The answer alone may not say which input it was about.
      if (error instanceof Error && r.body) error.message += `\n  request body: ${r.body.slice(0, 600)}`;
      throw error;
    }
    if (!r.url.startsWith('/metrics'))
      assertNoLeak(text, sentStrings(r.url, r.body, Object.values(r.headers)));
    return answer;
  }

  test('payment sandbox: generated requests, Stripe-shaped answers only', async (t) => {
    const intents: string[] = [];
    const known = (prefix: string) =>
      fc.nat().map((i) => () => intents[i % Math.max(1, intents.length)] ?? `${prefix}_missing`);
    const metadata = fc.oneof(
      fc.dictionary(
        fc.oneof(fc.constantFrom('userId', 'cartId', 'attemptId'), hostileString({ maxLength: 45 })),
        fc.oneof(
          { weight: 4, arbitrary: hostileString({ maxLength: 520 }) },
          { weight: 1, arbitrary: hostileJsonValue },
        ),
        { maxKeys: 6 },
      ),
      fc.constant(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']))),
      hostileJsonValue,
    );
    const intentBody = fc.record(
      {
        amount: fc.oneof(fc.integer({ min: 1, max: 99_999_999 }), edgeNumber),
        currency: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom('usd', 'eur') },
          { weight: 1, arbitrary: hostileString() },
        ),
        payment_method: fc.oneof(
          { weight: 2, arbitrary: fc.constantFrom(...TEST_TOKENS) },
          { weight: 2, arbitrary: hostileString({ maxLength: 300 }) },
        ),
        confirm: fc.oneof(fc.constantFrom('true', 'false'), hostileString({ maxLength: 8 })),
        automatic_payment_methods: fc.oneof(
          fc.constant({ enabled: 'true', allow_redirects: 'never' }),
          hostileJsonValue,
        ),
        metadata,
      },
      { requiredKeys: [] },
    );
    // Stripe's encoding (a form, brackets for nested keys) most of the time; JSON, which the routes read too.
    const encoded = (body: unknown) =>
      fc.constantFrom('form', 'form', 'form', 'json').map((encoding) => ({
        body,
        encoding: encoding as 'form' | 'json',
      }));
    const bodyOf =
      ({ body, encoding }: { body: unknown; encoding: 'form' | 'json' }) =>
      () =>
        encoding === 'json' ? JSON.stringify(body) : qs.stringify(body);
    const route: fc.Arbitrary<SandboxRoute> = fc
      .oneof(
        {
          weight: 5,
          arbitrary: intentBody.chain(encoded).map((b) => ({
            method: 'POST',
            url: () => '/v1/payment_intents',
            body: bodyOf(b),
            encoding: b.encoding,
          })),
        },
        {
          weight: 2,
          arbitrary: fc
            .oneof(
              known('pi'),
              hostileString().map((s) => () => s),
            )
            .chain((intent) => encoded(intent))
            .map(({ body: intent, encoding }) => ({
              method: 'POST',
              url: () => '/v1/refunds',
              body: () => bodyOf({ body: { payment_intent: (intent as () => string)() }, encoding })(),
              encoding,
            })),
        },
        {
          weight: 2,
          arbitrary: fc
            .record(
              {
                path: fc.constantFrom('/v1/payment_intents', '/v1/refunds'),
                payment_intent: hostileString(),
                limit: fc.oneof(fc.constantFrom('1', '100', '000', '999'), hostileString()),
                starting_after: hostileString(),
                'created[gte]': fc.oneof(fc.constantFrom('0', '1796284000', '999999999999'), hostileString()),
                'created[lt]': hostileString(),
              },
              { requiredKeys: ['path'] },
            )
            .map(({ path, ...q }) => ({
              method: 'GET',
              url: () =>
                `${path}?${Object.entries(q)
                  .map(([k, v]) => `${k}=${percentEncode(v)}`)
                  .join('&')}`,
            })),
        },
        {
          weight: 2,
          arbitrary: fc
            .oneof(
              known('pi'),
              pathSegment.map((s) => () => s),
            )
            .map((intent) => ({ method: 'GET', url: () => `/v1/payment_intents/${intent()}` })),
        },
        {
          weight: 1,
          arbitrary: fc
            .tuple(
              fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH'),
              fc.constantFrom(
                '/v1',
                '/v1/charges',
                '/v1/payment_intents/x/capture',
                '/v1/payment_intents/search',
                '/',
                '/health',
                '/metrics',
                '/v1/refunds',
              ),
            )
            .map(([method, url]) => ({ method, url: () => url })),
        },
        {
          weight: 1,
          arbitrary: fc
            .tuple(
              fc.constantFrom('POST'),
              fc.constantFrom('/v1/payment_intents', '/v1/refunds'),
              fc.oneof(fc.json(), fc.string({ unit: 'binary', maxLength: 200 })),
            )
            .map(([method, url, body]) => ({ method, url: () => url, body: () => body })),
        },
      )
      .map(described);
    const requestArb = fc.record({
      route,
      auth: fc.constantFrom('key', 'key', 'key', 'key', 'key', 'wrong', 'none', 'lower', 'spaced'),
      contentType: fc.oneof(
        { weight: 5, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: contentTypeValue },
      ),
      idempotencyKey: fc.option(fc.oneof(headerValue, fc.constantFrom('k-1', 'k-2', 'k-3')), {
        nil: undefined,
      }),
    });
    await fuzz(t, requestArb, runsOf(0.12), async (r) => {
      const authorization = {
        key: `Bearer ${paymentKey}`,
        wrong: 'Bearer sk_test_wrong',
        none: undefined,
        lower: `bearer ${paymentKey}`,
        spaced: `Bearer ${paymentKey} `,
      }[r.auth];
      const body = r.route.body?.();
      const headers: Record<string, string> = {};
      if (authorization) headers.authorization = authorization;
      // The body's own type, unless the run picked an odd one.
      const contentType =
        r.contentType ??
        (r.route.encoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json');
      if (body !== undefined) headers['content-type'] = contentType;
      if (r.idempotencyKey !== undefined) headers['idempotency-key'] = asHeader(r.idempotencyKey);
      const sendsBody = body !== undefined && r.route.method !== 'GET' && r.route.method !== 'HEAD';
      const answer = await sandbox(payment, checkPaymentAnswer, {
        method: r.route.method,
        url: r.route.url(),
        headers,
        body: sendsBody ? body : undefined,
      });
      const made =
        answer.status === 200 && r.route.method === 'POST' && r.route.url() === '/v1/payment_intents';
      const created = made ? (JSON.parse(answer.text) as { id?: string }).id : undefined;
      if (created?.startsWith('pi_')) intents.push(created);
    });
  });

  test('inventory service: generated requests, documented answers only', async (t) => {
    const reservations: string[] = [];
    const known = fc
      .nat()
      .map((i) => () => reservations[i % Math.max(1, reservations.length)] ?? 'res_missing');
    const reservationId = fc.oneof(
      { weight: 2, arbitrary: fc.uuid() },
      { weight: 3, arbitrary: hostileString({ maxLength: 140 }) },
    );
    const sku = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...SKUS, NEARLY_FULL_SKU) },
      { weight: 1, arbitrary: hostileString({ maxLength: 70 }) },
    );
    const items = fc.oneof(
      fc.array(fc.record({ sku, quantity: fc.oneof(fc.integer({ min: 1, max: 10_000 }), edgeNumber) }), {
        maxLength: 5,
      }),
      fc.constant(SKUS.map((s) => ({ sku: s, quantity: 10_000 }))),
      hostileJsonValue,
    );
    const route: fc.Arbitrary<SandboxRoute> = fc
      .oneof(
        {
          weight: 4,
          arbitrary: fc
            .record(
              { reservationId, items, ttlSeconds: fc.oneof(fc.constantFrom(1, 60, 86_400), edgeNumber) },
              { requiredKeys: [] },
            )
            .map((b) => ({ method: 'POST', url: () => '/reservations', body: () => JSON.stringify(b) })),
        },
        {
          weight: 2,
          arbitrary: fc
            .tuple(
              fc.oneof(
                known,
                reservationId.map((s) => () => percentEncode(s)),
                pathSegment.map((s) => () => s),
              ),
              fc.constantFrom('commit', 'release'),
            )
            .map(([id, action]) => ({ method: 'POST', url: () => `/reservations/${id()}/${action}` })),
        },
        {
          weight: 1,
          arbitrary: fc
            .array(
              fc.oneof(
                known,
                reservationId.map((s) => () => s),
              ),
              { maxLength: 6 },
            )
            .map((ids) => ({
              method: 'POST',
              url: () => '/reservations/commit',
              body: () => JSON.stringify({ reservationIds: ids.map((f) => f()) }),
            })),
        },
        {
          weight: 2,
          arbitrary: fc
            .tuple(
              fc.oneof(sku.map(percentEncode), pathSegment),
              fc.oneof(fc.constant(1_000_000), edgeNumber),
            )
            .map(([s, quantity]) => ({
              method: 'POST',
              url: () => `/stock/${s}/restock`,
              body: () => JSON.stringify({ quantity }),
            })),
        },
        {
          weight: 1,
          arbitrary: fc
            .oneof(sku.map(percentEncode), pathSegment)
            .map((s) => ({ method: 'GET', url: () => `/stock/${s}` })),
        },
        {
          weight: 1,
          arbitrary: fc
            .tuple(
              fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'),
              fc.constantFrom('/stock', '/reservations', '/', '/health', '/metrics'),
              fc.option(fc.json(), { nil: undefined }),
            )
            .map(([method, url, body]) => ({ method, url: () => url, body: () => body })),
        },
      )
      .map(described);
    const requestArb = fc.record({
      route,
      contentType: fc.oneof(
        { weight: 5, arbitrary: fc.constant('application/json') },
        { weight: 1, arbitrary: contentTypeValue },
      ),
    });
    await fuzz(t, requestArb, runsOf(0.12), async (r) => {
      const body = r.route.body?.();
      const headers: Record<string, string> = {};
      // The body's own type, unless the run picked an odd one.
      const contentType =
        r.contentType ??
        (r.route.encoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json');
      if (body !== undefined) headers['content-type'] = contentType;
      const sendsBody = body !== undefined && r.route.method !== 'GET' && r.route.method !== 'HEAD';
      const answer = await sandbox(inventory, checkInventoryAnswer, {
        method: r.route.method,
        url: r.route.url(),
        headers,
        body: sendsBody ? body : undefined,
      });
      const reserved =
        answer.status === 201 && (JSON.parse(answer.text) as { reservationId?: string }).reservationId;
      if (reserved) reservations.push(percentEncode(reserved));
    });
  });

  test('sandboxes: the inputs that once answered 500 are refused in their own shape', async () => {
    const charge = (body: unknown, key?: string) =>
      sandbox(payment, checkPaymentAnswer, {
        method: 'POST',
        url: '/v1/payment_intents',
        headers: {
          authorization: `Bearer ${paymentKey}`,
          // JSON, which the routes read too: a lone surrogate cannot be written in a form body.
          'content-type': 'application/json',
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body: JSON.stringify(body),
      });
    // The unknown payment method's message cut the token inside a surrogate pair: its stored answer was unstorable.
    const cut = await charge(
      { amount: '100', currency: 'usd', payment_method: `${'a'.repeat(63)}😀`, confirm: 'true' },
      'fuzz-cut-pair',
    );
    assert.equal(cut.status, 400, cut.text);
    assert.match(cut.text, /"param":"payment_method"/);
    // `__proto__` and `constructor` found what every object inherits among the test tokens (seed 42).
    for (const method of ['pm_card_visa\u0000', 'pm\ud800', 'pm\u0085', '__proto__', 'constructor']) {
      const refused = await charge(
        { amount: '100', currency: 'usd', payment_method: method, confirm: 'true' },
        `fuzz-${method.length}`,
      );
      assert.equal(refused.status, 400, refused.text);
      assert.match(refused.text, /"param":"payment_method"/);
    }
    // A key with a line separator was not matched by the key pattern, so its value went unchecked.
    const separator = await charge({
      amount: '100',
      currency: 'usd',
      payment_method: 'pm_card_visa',
      metadata: { 'a\u2028': { x: '\u0000' } },
    });
    assert.equal(separator.status, 400, separator.text);
    // A restock past what an int4 column counts.
    const full = await sandbox(inventory, checkInventoryAnswer, {
      method: 'POST',
      url: `/stock/${NEARLY_FULL_SKU}/restock`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quantity: 1_000_000 }),
    });
    assert.equal(full.status, 409, full.text);
    assert.equal((JSON.parse(full.text) as { error: string }).error, 'STOCK_LIMIT_EXCEEDED');
  });

  test('sandboxes and checkout: healthy after the sandboxes were fuzzed', async () => {
    await watch.check();
    for (const url of [stack.info.paymentUrl, stack.info.inventoryUrl, stack.info.checkoutUrl]) {
      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200, `${url}: ${await health.text()}`);
    }
  });
});

/** A request to a sandbox, made when it is sent (ids it names may be ones the fuzz saw created). */
interface SandboxRoute {
  method: string;
  url: () => string;
  body?: () => string | undefined;
  /** How the body is encoded: Stripe's form, or JSON. */
  encoding?: 'form' | 'json';
}

/** A route that prints as the request it makes, in a counterexample (its parts are functions). */
function described(route: SandboxRoute): SandboxRoute {
  return Object.assign(route, {
    [fc.toStringMethod]: () => `${route.method} ${route.url()} ${route.body?.() ?? ''}`,
  });
}

/** A path segment as the route will read it, or as it is when it does not decode. */
function decodeURIComponentOr(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
