import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { StackInfo } from '../src/stack/stackFile.ts';
import {
  type Answer,
  keyedLoad,
  nodeNow,
  partition,
  postmasterOf,
  primary,
  processesOf,
  signalAll,
  timings,
  waitHealthy,
  wrapperOf,
} from './support/cluster.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// Issue "When the database fails over": `steadfast start --ha` puts the checkout's and the inventory's
// databases on two PostgreSQL nodes under Patroni (Debian's patroni, etcd-server and postgresql-15), behind
// HAProxy routing to the primary. Under keyed checkouts from several clients, the primary dies in each of
// the ways a primary dies; every client ends with one order per key and nothing but 503s on the way.

const STACK_ENV = {
  CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
  CHECKOUT_ATTEMPT_LEASE_MS: '3000',
  RECOVERY_INTERVAL_MS: '500',
  LATE_CHARGE_RECHECK_MS: '3000',
  PAYMENT_BREAKER_HALF_OPEN_MS: '1000',
  INVENTORY_BREAKER_HALF_OPEN_MS: '1000',
};

/** Carts ready for checkout, each with its own key; made once the checkout is ready again. */
async function carts(stack: TestStack, prefix: string, count: number) {
  await eventually(
    async () => (await fetch(`${stack.info.checkoutUrl}/health/ready`)).status === 200,
    60_000,
    'the checkout ready',
  );
  const made: { cartId: string; token: string; key: string }[] = [];
  for (let i = 0; i < count; i++)
    made.push({ ...(await stack.cart(`usr_${prefix}_${i}`)), key: `${prefix}-${i}` });
  return made;
}

/** Orders per cart, on a connection of its own: the stack's pool may hold one the failover cut. */
async function ordersPerCart(stack: TestStack, cartIds: string[]): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: stack.info.databaseUrl });
  await client.connect();
  try {
    const rows = await client.query<{ cart_id: string; n: number }>(
      'SELECT cart_id, count(*)::int AS n FROM orders WHERE cart_id = ANY($1) GROUP BY cart_id',
      [cartIds],
    );
    return new Map(rows.rows.map((r) => [r.cart_id, r.n]));
  } finally {
    await client.end();
  }
}

/**
 * A load of keyed checkouts with `fault` done 0.5 s into it; then every client has its 201 and its one
 * order, nothing was refused but with 503 (no 500), and reconcile is clean. The timings are printed.
 */
async function survives(
  stack: TestStack,
  name: string,
  fault: () => Promise<void>,
  readiness?: (seen: number[]) => void,
): Promise<ReturnType<typeof timings>> {
  const cartsOfRun = await carts(stack, name, 150);
  const ready: number[] = [];
  let probing = true;
  const probe = (async () => {
    const url = stack.info.instances[0]?.url;
    while (probing) {
      const answer = await fetch(`${url}/health/ready`).catch(() => undefined);
      ready.push(answer?.status ?? 0);
      await sleep(250);
    }
  })();
  const answers: Answer[] = [];
  let faultAt = 0;
  const load = keyedLoad(stack, cartsOfRun, {
    clients: 6,
    deadlineMs: 120_000,
    onAnswer: (a) => answers.push(a),
  });
  await sleep(500);
  faultAt = Date.now();
  await fault();
  const { finals } = await load;
  // Ready again by itself: the check runs once a second and its probe may meet the cut connection
  // first, so the last checkouts can end a few seconds before it says so.
  await eventually(async () => ready.at(-1) === 200, 30_000, '/health/ready ready again').catch(() => {});
  probing = false;
  await probe;
  readiness?.(ready);

  const seen = timings(answers, faultAt);
  process.stdout.write(
    `# ${name}: fault to first 201 ${seen.firstCheckoutMs} ms; 503s ${seen.unavailable} ` +
      `(from ${seen.firstUnavailableMs} to ${seen.lastUnavailableMs} ms); ${answers.length} requests for ${cartsOfRun.length} checkouts\n`,
  );
  assert.deepEqual(seen.other, [], 'nothing but 201, 503 and in-flight 409s');
  assert.equal(answers.filter((a) => a.status === 500).length, 0, 'no 500');
  for (const cart of cartsOfRun) assert.equal(finals.get(cart.cartId), 201, `${cart.key} ended in its 201`);
  const orders = await ordersPerCart(
    stack,
    cartsOfRun.map((c) => c.cartId),
  );
  for (const cart of cartsOfRun) assert.equal(orders.get(cart.cartId), 1, `${cart.key} has one order`);
  await eventually(
    () => stack.settled({ userIds: cartsOfRun.map((_, i) => `usr_${name}_${i}`) }),
    60_000,
    'every attempt settled',
  );
  const reconciled = await stack.reconcile();
  assert.equal(reconciled.code, 0, reconciled.stdout);
  return seen;
}

function patronictl(stack: TestStack, ...args: string[]): string {
  const ha = stack.info.ha;
  assert.ok(ha);
  return execFileSync('patronictl', ['-c', ha.patroniConfig, ...args], {
    env: { ...process.env, PATRONI_ETCD3_HOSTS: new URL(ha.etcdUrl).host },
  }).toString();
}

describe('steadfast start --ha: a failover under load costs seconds of 503s and no order', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startTestStack(STACK_ENV, ['--ha']);
    await stack.restock('sku_mug', 1000);
    // The gaps a failover opens are the ones recovery and the keyed retries fill; webhooks would hide them.
    await stack.fault('payment', { mode: 'none', webhooks: 'hold' });
  });
  after(() => stack?.stop());

  test('stack.json names the cluster; the services reach its primary through HAProxy', async () => {
    const ha = stack.info.ha;
    assert.ok(ha, 'stack.json has the cluster');
    assert.equal(ha.replication, 'sync');
    assert.deepEqual(
      ha.nodes.map((n) => n.name),
      ['pg-1', 'pg-2'],
    );
    assert.equal(new URL(stack.info.databaseUrl).host, ha.primaryHost);
    await waitHealthy(ha, 'sync');
    const leader = await primary(ha);
    const { rows } = await stack.db.query<{ port: number; standby: boolean }>(
      'SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby',
    );
    assert.equal(rows[0]?.port, Number(new URL(leader.postgresUrl).port), 'HAProxy leads to the primary');
    assert.equal(rows[0]?.standby, false);
    assert.match(patronictl(stack, 'list'), /Sync Standby/);
    await rolesInStackJson(stack, leader.name);
  });

  test('the primary node dies (SIGKILL of Patroni and its postmaster): the standby takes over', async () => {
    const ha = stack.info.ha;
    assert.ok(ha);
    await waitHealthy(ha, 'sync');
    const dead = await primary(ha);
    const pids = await processesOf(stack, dead.name);
    // A machine that dies does not come back at once: its supervision is held until the failover is over.
    const wrapper = await wrapperOf(stack, dead.name);
    process.kill(wrapper, 'SIGSTOP');
    try {
      const seen = await survives(
        stack,
        'kill_node',
        async () => signalAll(pids, 'SIGKILL'),
        (ready) => {
          assert.ok(ready.includes(503), '/health/ready said unready while no primary answered');
          assert.equal(ready.at(-1), 200, 'and ready again by itself');
        },
      );
      assert.ok(seen.unavailable > 0, 'the failover was seen as 503s');
      const promoted = await primary(ha);
      assert.notEqual(promoted.name, dead.name, 'the other node is the primary');
      // The dead node's restart is held back: it is down.
      await rolesInStackJson(stack, promoted.name, 'down');
    } finally {
      process.kill(wrapper, 'SIGCONT');
    }
    // The supervisor restarts the dead node; it rejoins as the synchronous standby.
    await waitHealthy(ha, 'sync');
  });

  test('the primary is cut off the network (a partition): the standby takes over; healed, it rejoins', async () => {
    const ha = stack.info.ha;
    assert.ok(ha);
    await waitHealthy(ha, 'sync');
    const cut = await primary(ha);
    let heal = () => {};
    try {
      const seen = await survives(
        stack,
        'partition',
        async () => {
          heal = partition(cut);
        },
        (ready) => {
          assert.ok(ready.includes(503), '/health/ready said unready while no primary answered');
          assert.equal(ready.at(-1), 200, 'and ready again by itself');
        },
      );
      assert.ok(seen.unavailable > 0, 'the partition was seen as 503s');
      assert.notEqual((await primary(ha)).name, cut.name, 'the other node is the primary');
    } finally {
      heal();
    }
    // Healed, the old primary (demoted when it lost etcd) rejoins as the synchronous standby.
    await waitHealthy(ha, 'sync');
  });

  test('the primary PostgreSQL alone is SIGKILLed: Patroni brings it back, no order lost', async () => {
    const ha = stack.info.ha;
    assert.ok(ha);
    await waitHealthy(ha, 'sync');
    const node = await primary(ha);
    const postmaster = await postmasterOf(await nodeNow(stack, node.name));
    await survives(stack, 'kill_postmaster', async () => {
      process.kill(postmaster, 'SIGKILL');
    });
    await waitHealthy(ha, 'sync');
  });

  test('a planned switchover (patronictl switchover) under load: no checkout fails', async () => {
    const ha = stack.info.ha;
    assert.ok(ha);
    await waitHealthy(ha, 'sync');
    const from = await primary(ha);
    const to = ha.nodes.find((n) => n.name !== from.name);
    assert.ok(to);
    await survives(stack, 'switchover', async () => {
      patronictl(stack, 'switchover', '--leader', from.name, '--candidate', to.name, '--force');
    });
    assert.equal((await primary(ha)).name, to.name);
    await waitHealthy(ha, 'sync');
  });

  test('Ctrl-C stops every node, its PostgreSQL too, paused or not, before it says stopped', async () => {
    const ha = stack.info.ha;
    assert.ok(ha);
    await waitHealthy(ha, 'sync');
    // Patroni detaches its postmaster: it is in no tree of the supervisor's, and paused it cannot stop.
    const postmasters = await Promise.all(
      ha.nodes.map(async (n) => postmasterOf(await nodeNow(stack, n.name))),
    );
    signalAll(postmasters, 'SIGSTOP');
    const supervisor = stack.info.pids.supervisor;
    process.kill(supervisor, 'SIGINT');
    await eventually(async () => !alive(supervisor), 120_000, 'the stack stopped');
    assert.deepEqual(postmasters.filter(alive), [], 'no PostgreSQL of the cluster left running');
  });
});

/** stack.json names `primary` the primary and the other node `others`, within a few seconds. */
async function rolesInStackJson(
  stack: TestStack,
  primaryName: string,
  others: 'standby' | 'down' = 'standby',
): Promise<void> {
  await eventually(
    async () => {
      const info = JSON.parse(readFileSync(join(stack.dataDir, 'stack.json'), 'utf8')) as StackInfo;
      return (info.ha?.nodes ?? []).every((n) => n.role === (n.name === primaryName ? 'primary' : others));
    },
    20_000,
    `stack.json's roles: ${primaryName} the primary`,
  );
}

/** Running: there, and not a zombie (a process ended whose parent has not reaped it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
