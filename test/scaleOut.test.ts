import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HaproxyAdmin } from '../src/stack/HaproxyAdmin.ts';
import { haproxyStats } from '../src/stack/haproxyStats.ts';
import type { StackInfo } from '../src/stack/stackFile.ts';
import { assertProblem } from './support/problems.ts';
import { runCli } from './support/processes.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// Issue "Scale out": several checkout instances behind HAProxy (the shipped configuration), which polls
// their readiness; an instance that dies takes nothing with it.
describe('steadfast start --instances 3: HAProxy in front', () => {
  let stack: TestStack;
  let users = 0;

  before(async () => {
    stack = await startTestStack(
      {
        CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
        HAPROXY_STATS_PORT: '0',
        // The shipped cadence is 5 s; a test has no minutes to spare.
        HAPROXY_CHECK_INTER: '200ms',
        HAPROXY_CHECK_FALL: '2',
        CHECKOUT_ATTEMPT_LEASE_MS: '1500',
        RECOVERY_INTERVAL_MS: '300',
        // Unwound attempts get a second look for a late charge; soon enough to be settled within a test.
        LATE_CHARGE_RECHECK_MS: '2000',
        // Not the default, so that the maxconn HAProxy holds can only be what the agents reported.
        CHECKOUT_MAX_CONCURRENT: '20',
      },
      ['--instances', '3'],
    );
  });
  after(() => stack?.stop());

  /** HAProxy's view of each checkout server, through its runtime API: name → UP, DOWN, ... */
  const serverStates = async (): Promise<Record<string, string>> => {
    const admin = new HaproxyAdmin(join(stack.dataDir, 'haproxy', 'admin.sock'), 'checkout');
    return Object.fromEntries(
      Object.entries(await admin.servers()).map(([name, state]) => [name, state.status]),
    );
  };

  /**
   * The checkout backend's servers as HAProxy's statistics show them: the maxconn each holds (slim, 36
   * in the configuration) and its agent check's last result.
   */
  const checkoutServers = async () =>
    (await haproxyStats(stack.info.haproxyStatsUrl ?? ''))
      .filter((row) => row.pxname === 'checkout_complete' && row.svname?.startsWith('checkout-'))
      .map((row) => ({ name: row.svname, maxconn: row.slim, agent: row.agent_status }));
  /** Each instance's agent has told HAProxy its admission limit (20, less the agent's margin of 2). */
  const agentsReported = () =>
    eventually(
      async () => {
        const servers = await checkoutServers();
        return servers.length === 3 && servers.every((s) => s.maxconn === '18' && s.agent === 'CHECKED');
      },
      10_000,
      'every agent reported maxconn 18',
    );

  const checkout = (cartId: string, token: string, key: string) =>
    stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'pm_card_visa' },
      headers: { 'idempotency-key': key },
    });

  test('stack.json lists every instance; requests through HAProxy reach all of them, X-Request-Id passed through', async () => {
    const { instances, checkoutUrl, haproxyStatsUrl } = stack.info;
    assert.equal(instances.length, 3);
    assert.ok(haproxyStatsUrl);
    assert.equal((await fetch(haproxyStatsUrl)).status, 200, 'the stats page');
    assert.ok(!instances.some((i) => i.url === checkoutUrl), 'the checkout URL is the balancer');
    await eventually(
      async () => Object.values(await serverStates()).every((s) => s === 'UP'),
      10_000,
      'all three UP',
    );
    assert.ok(
      instances.every((i) => i.admissionAgentPort),
      'each instance has an admission agent',
    );
    await agentsReported();
    for (let i = 0; i < 9; i++) {
      const { cartId, token } = await stack.cart(`usr_lb_${users++}`);
      assert.equal((await checkout(cartId, token, `lb-${i}`)).status, 201);
    }
    // Each instance served its share (HAProxy balances requests, not carts: which one serves a given
    // route depends on the order of arrival).
    for (const instance of instances) {
      // Its operator surfaces on its management listener, as in production: the API's port has none.
      assert.ok(instance.managementUrl, `${instance.name} has a management listener`);
      assert.equal((await fetch(`${instance.url}/metrics`)).status, 404);
      const metrics = await (await fetch(`${instance.managementUrl}/metrics`)).text();
      assert.match(
        metrics,
        /^http_requests_total\{method="POST",route="\/api\/[^"]+",status_code="20\d"/m,
        `${instance.name} served requests`,
      );
    }
    const echoed = await stack.api('GET', '/health/ready', {
      token: null,
      headers: { 'x-request-id': 'req-lb-1' },
    });
    assert.equal(echoed.headers.get('x-request-id'), 'req-lb-1');
    const assigned = await stack.api('GET', '/health/ready', { token: null });
    assert.match(assigned.headers.get('x-request-id') ?? '', /^[0-9A-F]{8,}/, 'set by HAProxy when missing');
  });

  interface Client {
    cartId: string;
    token: string;
    key: string;
  }

  /**
   * Well-behaved clients, six at a time: each retries a 5xx or an in-flight 409 with the same key until a
   * final answer. `disrupt` runs once the load is under way (slow payments keep checkouts in flight on
   * every instance); the victim must be seen DOWN at HAProxy meanwhile.
   */
  const underLoad = async (
    name: string,
    victim: StackInfo['instances'][number],
    disrupt: () => Promise<void>,
  ) => {
    const clients: Client[] = [];
    for (let i = 0; i < 24; i++)
      clients.push({ ...(await stack.cart(`usr_${name}_${users++}`)), key: `${name}-${i}` });
    const statuses: number[] = [];
    const finals = new Map<string, number>();
    const deadline = Date.now() + 45_000;
    const drive = async (client: Client) => {
      while (Date.now() < deadline && !finals.has(client.cartId)) {
        const response = await checkout(client.cartId, client.token, client.key);
        statuses.push(response.status);
        const inFlight =
          response.body.error === 'IDEMPOTENCY_KEY_IN_USE' || response.body.error === 'CHECKOUT_IN_PROGRESS';
        if (response.status === 201 || (response.status < 500 && !inFlight))
          finals.set(client.cartId, response.status);
        else await sleep(200);
      }
    };
    let sawDown = false;
    const watcher = (async () => {
      while (Date.now() < deadline && !sawDown) {
        sawDown = (await serverStates())[victim.name]?.startsWith('DOWN') ?? false;
        await sleep(50);
      }
    })();
    await stack.fault('payment', { mode: 'latency', latencyMs: 300 });
    const workers = Array.from({ length: 6 }, async (_, worker) => {
      for (let i = worker; i < clients.length; i += 6) await drive(clients[i] as Client);
    });
    const load = Promise.all(workers);
    await sleep(500);
    await disrupt();
    await load;
    await watcher;
    await stack.fault('payment', { mode: 'none' });

    assert.ok(sawDown, `HAProxy marked ${victim.name} down`);
    assert.equal(finals.size, clients.length, 'every client got a final answer');
    for (const client of clients) assert.equal(finals.get(client.cartId), 201);
    assert.ok(!statuses.includes(500), `no 500: ${statuses}`);
    assert.ok(
      statuses.every((s) => [201, 409, 502, 503, 504].includes(s)),
      `honest answers only: ${statuses}`,
    );
    for (const client of clients) {
      const orders = await stack.db.query('SELECT 1 FROM orders WHERE cart_id = $1', [client.cartId]);
      assert.equal(orders.rowCount, 1, 'one order per cart');
    }
    await eventually(async () => (await serverStates())[victim.name] === 'UP', 20_000, `${victim.name} back`);
    await eventually(
      async () => (await Promise.all(clients.map((c) => stack.settled({ cartId: c.cartId })))).every(Boolean),
      30_000,
      'all attempts settled',
    );
    const reconciled = await stack.reconcile();
    assert.equal(reconciled.code, 0, reconciled.stdout);
  };

  test('an instance killed under load: honest answers, HAProxy takes it out, every client ends with one order', async () => {
    const victim = stack.info.instances[1];
    assert.ok(victim?.pid);
    await underLoad('kill', victim, async () => {
      process.kill(victim.pid as number, 'SIGKILL');
    });
  });

  test('an instance frozen under load (SIGSTOP, as a long GC pause or a stalled VM): taken out, back in, one order each', async () => {
    // Its leases run out while it is frozen: the others' recovery may settle its attempts before it wakes.
    const victim = stack.info.instances[2];
    assert.ok(victim?.pid);
    await underLoad('freeze', victim, async () => {
      process.kill(victim.pid as number, 'SIGSTOP');
      try {
        await eventually(
          async () => (await serverStates())[victim.name]?.startsWith('DOWN') ?? false,
          10_000,
          'down',
        );
        await sleep(1000);
      } finally {
        process.kill(victim.pid as number, 'SIGCONT');
      }
    });
    const info = JSON.parse(await readFile(join(stack.dataDir, 'stack.json'), 'utf8')) as StackInfo;
    assert.equal(info.instances[2]?.pid, victim.pid, 'the same process came back: nothing restarted it');
  });

  test('one key spread over the instances: one order, every final answer the same', async () => {
    const { cartId, token } = await stack.cart(`usr_one_key_${users++}`);
    await stack.fault('payment', { mode: 'latency', latencyMs: 200 });
    let responses: Awaited<ReturnType<typeof checkout>>[];
    try {
      responses = await Promise.all(
        Array.from({ length: 20 }, () => checkout(cartId, token, 'one-key-everywhere')),
      );
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    const finals = responses.filter((r) => r.body.error !== 'IDEMPOTENCY_KEY_IN_USE');
    assert.ok(finals.length >= 1);
    for (const r of finals) {
      assert.equal(r.status, 201, r.text);
      assert.equal(r.text, finals[0]?.text);
    }
    assert.ok(responses.every((r) => r.status === 201 || r.status === 409));
    const orders = await stack.db.query('SELECT 1 FROM orders WHERE cart_id = $1', [cartId]);
    assert.equal(orders.rowCount, 1);
  });

  test('three recovery workers share many abandoned attempts: each settled exactly once', async () => {
    const carts: string[] = [];
    for (let i = 0; i < 60; i++) carts.push((await stack.cart(`usr_abandoned_${users++}`)).cartId);
    // Attempts whose worker is gone: recorded, their lease long over, nothing reserved yet.
    const { rows } = await stack.db.query<{ id: string }>(
      `INSERT INTO checkout_attempts (id, user_id, cart_id, phase, amount_cents, currency, items, locked_until)
       SELECT gen_random_uuid(), c.user_id, c.id, 'started', 1400, 'usd', '[{"sku":"sku_mug","quantity":1}]',
              now() - interval '1 minute'
       FROM carts c WHERE c.id = ANY($1::uuid[]) RETURNING id`,
      [carts],
    );
    assert.equal(rows.length, 60);
    await eventually(
      async () => (await Promise.all(carts.map((cartId) => stack.settled({ cartId })))).every(Boolean),
      30_000,
      'all 60 settled',
    );
    const settledBy = new Map<string, string[]>();
    for (const instance of stack.info.instances) {
      for (const line of await stack.log(instance.name)) {
        if (line.msg !== 'attempt_recovered' || line.outcome === 'deferred') continue;
        const id = String(line.attemptId);
        settledBy.set(id, [...(settledBy.get(id) ?? []), instance.name]);
      }
    }
    for (const { id } of rows)
      assert.equal(settledBy.get(id)?.length, 1, `attempt ${id}: ${settledBy.get(id)}`);
    const workers = new Set(rows.flatMap(({ id }) => settledBy.get(id) ?? []));
    assert.ok(workers.size >= 2, `the work was shared: ${[...workers]}`);
    const reconciled = await stack.reconcile();
    assert.equal(reconciled.code, 0, reconciled.stdout);
  });

  test('steadfast restart --rolling under steady load: no request fails or waits past its budget', async (t) => {
    const before = JSON.parse(await readFile(join(stack.dataDir, 'stack.json'), 'utf8')) as StackInfo;
    const answers: { status: number; ms: number; error?: unknown }[] = [];
    await stack.restock('sku_mug', 100_000);
    let load = true;
    const client = async (n: number) => {
      while (load) {
        const token = await stack.token(`usr_rolling_${n}`);
        const created = await stack.api('POST', '/api/carts', { token });
        const cartId = String(created.body.cartId);
        const added = await stack.api('POST', `/api/carts/${cartId}/items`, {
          token,
          body: { sku: 'sku_mug', quantity: 1 },
        });
        // No Idempotency-Key, no retry: every request must succeed the first time.
        const paid = await stack.api('POST', '/api/checkout/complete', {
          token,
          body: { cartId, paymentToken: 'pm_card_visa' },
        });
        for (const r of [created, added, paid])
          answers.push({ status: r.status, ms: r.elapsedMs, error: r.body.error });
        await sleep(20);
      }
    };
    const clients = Array.from({ length: 4 }, (_, n) => client(n));
    await sleep(300);
    const restartStarted = performance.now();
    const restart = await runCli(['restart', '--rolling'], { STEADFAST_DATA_DIR: stack.dataDir });
    const restartMs = performance.now() - restartStarted;
    load = false;
    await Promise.all(clients);

    assert.equal(restart.code, 0, restart.stdout + restart.stderr);
    const after = JSON.parse(await readFile(join(stack.dataDir, 'stack.json'), 'utf8')) as StackInfo;
    assert.equal(after.rollingRestart?.state, 'done');
    for (const [i, instance] of after.instances.entries()) {
      assert.notEqual(instance.pid, before.instances[i]?.pid, `${instance.name} was restarted`);
    }
    const failed = answers.filter((a) => a.status >= 300);
    assert.deepEqual(failed, [], `${answers.length} requests, none failed`);
    const slowest = Math.max(...answers.map((a) => a.ms));
    assert.ok(slowest < 5000, `no request waited past its budget (slowest ${Math.round(slowest)} ms)`);
    assert.ok(answers.length >= 30, `steady load throughout (${answers.length} requests)`);
    t.diagnostic(
      `rolling restart of ${after.instances.length} instances in ${Math.round(restartMs)} ms under load: ` +
        `${answers.length} requests (${answers.length / 3} checkouts), ${failed.length} failed, slowest ${Math.round(slowest)} ms`,
    );
    const reconciled = await stack.reconcile();
    assert.equal(reconciled.code, 0, reconciled.stdout);
    // Restarted on the ports HAProxy's configuration names: the agents answer there again.
    assert.deepEqual(
      after.instances.map((i) => i.admissionAgentPort),
      before.instances.map((i) => i.admissionAgentPort),
    );
    await agentsReported();
  });

  test('no instance up: HAProxy itself answers 503 in the contract (problem+json, Retry-After, errorId)', async () => {
    // The instance killed above runs again under a new pid: stack.json has it.
    const current = JSON.parse(await readFile(join(stack.dataDir, 'stack.json'), 'utf8')) as StackInfo;
    const pids = current.instances.map((i) => i.pid as number);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      await eventually(
        async () => Object.values(await serverStates()).every((s) => s.startsWith('DOWN')),
        10_000,
        'every instance DOWN',
      );
      const { cartId, token } = { cartId: stack.info.demoCartId, token: stack.info.demoToken };
      assertProblem(await checkout(cartId, token, 'no-instance'), 503, 'SERVICE_TEMPORARILY_UNAVAILABLE');
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    await eventually(
      async () => Object.values(await serverStates()).every((s) => s === 'UP'),
      10_000,
      'every instance UP again',
    );
  });
});
