import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { PRODUCTION_MANAGEMENT_PORT } from '../src/platform/http/managementAddress.ts';
import { freePort } from '../src/stack/freePort.ts';
import { portOpen, runCli } from './support/processes.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// What outside probes found on the operator's surfaces, the bearer token and the request id, tried again
// on a real stack: two checkout instances behind the shipped HAProxy, on real PostgreSQL.
describe('operator surfaces, tokens and request ids, as an outside tester probes them', () => {
  let stack: TestStack;
  let secret: string;
  let supervisorManagementPort: number;

  before(async () => {
    // A management port in the supervisor's environment is not handed to every service (they would collide).
    supervisorManagementPort = await freePort();
    stack = await startTestStack(
      {
        HAPROXY_STATS_PORT: '0',
        CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
        MANAGEMENT_PORT: String(supervisorManagementPort),
      },
      ['--instances', '2'],
    );
    secret = (
      JSON.parse(await readFile(join(stack.dataDir, 'secrets.json'), 'utf8')) as { jwtSecret: string }
    ).jwtSecret;
  });
  after(() => stack?.stop());

  const logText = async (name: string) => readFile(join(stack.dataDir, 'logs', `${name}.log`), 'utf8');
  const instanceLines = async () => [...(await stack.log('checkout-1')), ...(await stack.log('checkout-2'))];

  test('a bad client X-Request-Id: HAProxy, the instance and the answer share one id', async () => {
    for (const [path, given] of [
      // Not a probe route: those request lines are sampled, this one is always written.
      ['/openapi.json?probe=space', 'bad id'],
      ['/openapi.json?probe=slash', 'a/b'],
      ['/openapi.json?probe=long', 'x'.repeat(200)],
    ] as const) {
      const response = await fetch(`${stack.info.checkoutUrl}${path}`, {
        headers: { 'x-request-id': given },
      });
      assert.equal(response.status, 200);
      const id = response.headers.get('x-request-id') ?? '';
      assert.match(id, /^[0-9A-F]{20,}$/, "HAProxy's own id replaced the bad one");
      await eventually(
        async () => (await logText('haproxy')).includes(`id=${id}`),
        5000,
        `HAProxy's log line with id=${id}`,
      );
      const line = (await logText('haproxy')).split('\n').find((l) => l.includes(`id=${id}`)) ?? '';
      assert.ok(line.includes(`GET ${path}`), line);
      await eventually(
        async () => (await instanceLines()).some((l) => l.msg === 'request_completed' && l.requestId === id),
        5000,
        `the instance's request line with requestId ${id}`,
      );
    }
    const kept = await fetch(`${stack.info.checkoutUrl}/health/live`, {
      headers: { 'x-request-id': 'probe-1' },
    });
    assert.equal(kept.headers.get('x-request-id'), 'probe-1');
  });

  test('a token in an unmatched path reaches no log line, metric or dashboard', async () => {
    const token = await stack.token('usr_probe');
    const [first] = stack.info.instances;
    const instance = first?.url ?? '';
    const management = first?.managementUrl ?? '';
    for (const path of [`/api/${token}`, `/api/carts/x/y/${token}`, `/${token}`]) {
      assert.equal((await fetch(`${instance}${path}`)).status, 404);
    }
    await eventually(
      async () => (await stack.log('checkout-1')).filter((l) => l.endpoint === 'GET unmatched').length >= 3,
      5000,
      'three unmatched request lines',
    );
    assert.ok(!(await logText('checkout-1')).includes(token), 'no log line holds the token');
    const metrics = await fetch(`${management}/metrics`);
    assert.equal(metrics.status, 200);
    assert.ok(!(await metrics.text()).includes(token));
    const data = await fetch(`${management}/dashboard/data`);
    assert.equal(data.status, 200);
    assert.ok(!(await data.text()).includes(token));
  });

  /** A token signed with the stack's own secret, holding exactly these claims. */
  const signed = (claims: Record<string, unknown>) =>
    new SignJWT({
      iss: 'steadfast',
      aud: 'steadfast-checkout',
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 600,
      ...claims,
    } as never)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(secret));

  test('bearer scheme in any case; correctly signed odd tokens are a 401 with a clear detail, never a 500', async () => {
    const token = await stack.token('usr_lowercase');
    for (const scheme of ['bearer', 'BEARER']) {
      const created = await stack.api('POST', '/api/carts', {
        token: null,
        headers: { authorization: `${scheme} ${token}` },
      });
      assert.equal(created.status, 201, created.text);
    }
    for (const [claims, detail] of [
      [{ sub: 'usr\u0000nul' }, /subject \(sub\) must be a user id/],
      [{ sub: 'usr\u009bc1' }, /subject \(sub\) must be a user id/],
      [{ sub: 'usr_1', exp: undefined }, /no "exp" claim/],
      [{ sub: 'usr_1', exp: Math.floor(Date.now() / 1000) + 90 * 86400 }, /lives longer than/],
      [{ sub: 'usr_1', iat: Math.floor(Date.now() / 1000) + 3600 }, /issued in the future/],
    ] as const) {
      const answer = await stack.api('POST', '/api/carts', { token: await signed(claims) });
      assert.equal(answer.status, 401, `${JSON.stringify(claims)}: ${answer.text}`);
      assert.equal(answer.body.error, 'UNAUTHENTICATED');
      assert.match(String(answer.body.detail), detail);
    }
    const errors = (await instanceLines()).filter((l) => Number(l.statusCode) >= 500);
    assert.deepEqual(errors, [], 'no 5xx logged');
  });

  /** A new instance sheds requests while its event loop is still busy starting (on a busy machine too). */
  const serveSettled = async (env: Record<string, string>) => {
    const instance = await stack.serve(env);
    await eventually(
      async () => (await fetch(`${instance.url}/openapi.json`)).status === 200,
      20_000,
      'the new instance answering',
    );
    return instance;
  };

  test('MANAGEMENT_PORT: the surfaces are refused on the API port and served on the management port', async () => {
    const managementPort = await freePort();
    const instance = await serveSettled({ MANAGEMENT_PORT: String(managementPort) });
    try {
      const management = `http://127.0.0.1:${managementPort}`;
      for (const path of [
        '/metrics',
        '/dashboard',
        '/dashboard/data',
        '/dashboard/uplot.js',
        '/docs',
        '/docs/json',
      ]) {
        const refused = await fetch(`${instance.url}${path}`);
        assert.equal(refused.status, 404, `${path} on the API port`);
        assert.equal(((await refused.json()) as { error: string }).error, 'ROUTE_NOT_FOUND');
      }
      assert.equal((await fetch(`${instance.url}/openapi.json`)).status, 200, 'the contract stays public');
      assert.equal((await fetch(`${instance.url}/health/ready`)).status, 200, 'health stays on the API port');

      const metrics = await fetch(`${management}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^http_requests_total\{/m);
      const data = await fetch(`${management}/dashboard/data`);
      assert.equal(data.status, 200);
      assert.equal(((await data.json()) as { title: string }).title, 'Steadfast checkout');
      const docs = await fetch(`${management}/docs/json`);
      assert.equal(docs.status, 200);
      assert.ok(((await docs.json()) as { paths: Record<string, unknown> }).paths['/api/checkout/complete']);
      for (const path of ['/api/carts', '/openapi.json']) {
        assert.equal((await fetch(`${management}${path}`)).status, 404, `${path} not on the management port`);
      }
      // The balancer checks here, from the same cached check as the API port's.
      const ready = await fetch(`${management}/health/ready`);
      assert.equal(ready.status, 200, 'health on the management port too');
      assert.equal(((await ready.json()) as { db: string }).db, 'connected');
      assert.match(instance.output(), new RegExp(`"managementUrl":"http://127.0.0.1:${managementPort}"`));
    } finally {
      instance.child.kill('SIGTERM');
      await instance.exited;
    }
    assert.equal(await portOpen(managementPort), false, 'the management listener closed with the instance');
  });

  test('in production, by default, the surfaces listen on loopback apart from the API', async () => {
    assert.equal(
      await portOpen(PRODUCTION_MANAGEMENT_PORT),
      false,
      `port ${PRODUCTION_MANAGEMENT_PORT} must be free for this test`,
    );
    // Unset, as the stack's own environment sets one (see the test after this one).
    const instance = await serveSettled({ NODE_ENV: 'production', MANAGEMENT_PORT: '' });
    try {
      assert.equal((await fetch(`${instance.url}/metrics`)).status, 404);
      assert.equal((await fetch(`${instance.url}/dashboard`)).status, 404);
      const metrics = await fetch(`http://127.0.0.1:${PRODUCTION_MANAGEMENT_PORT}/metrics`);
      assert.equal(metrics.status, 200);
    } finally {
      instance.child.kill('SIGTERM');
      await instance.exited;
    }
  });

  test('steadfast start keeps a MANAGEMENT_PORT of its environment from its services: each serves its own', async () => {
    const info = stack.info;
    const own = info.instances.map((i) => i.managementUrl ?? '');
    assert.ok(!own.includes(`http://127.0.0.1:${supervisorManagementPort}`));
    for (const url of [...own, info.inventoryUrl, info.paymentUrl]) {
      assert.equal((await fetch(`${url}/metrics`)).status, 200, url);
    }
    await assert.rejects(fetch(`http://127.0.0.1:${supervisorManagementPort}/metrics`), 'nobody bound it');
  });

  test('a malformed MANAGEMENT_PORT fails startup with one line naming it', async () => {
    const run = await runCli(['preflight'], { MANAGEMENT_PORT: 'banana', STEADFAST_DATA_DIR: stack.dataDir });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^STARTUP_FAILURE: Environment variable 'MANAGEMENT_PORT' is not valid/m);
    assert.doesNotMatch(run.stderr, /banana/);
  });
});
