import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { HaproxyAdmin, type ServerState } from '../src/stack/HaproxyAdmin.ts';
import { childrenOf } from './support/processes.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// An outside probe's flood of unauthenticated /health: before the readiness check was cached, every
// probe was a SELECT 1 on a one-connection pool, and the load balancer's own checks timed out behind
// them on a healthy database. Now the flood costs the database nothing, and they still fail fast when
// the database really stops. The flood goes straight at an instance's API port, a thousand new
// connections: libuv accepts one per turn of the event loop, so a check on that port would wait behind
// all of them. HAProxy checks the instance's management listener instead, and this test polls there too.
const TIMEOUT_MS = 400; // HEALTH_CHECK_TIMEOUT_MS's default
const INTERVAL_MS = 1000; // HEALTH_CHECK_INTERVAL_MS's default
const FLOOD_CONNECTIONS = 1000;
const FLOOD_SECONDS = 8;
// How long autocannon takes to start and open its connections.
const FLOOD_RAMP_MS = 2000;
const FLOOD_MAX_REQUESTS = 300_000;
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

/** The slowest of some checks, in whole ms. */
const slowest = (polls: Poll[]) => Math.round(Math.max(...polls.map((p) => p.elapsedMs)));

/** What autocannon reports of a flood, the parts this test reads. */
interface FloodResult {
  latency: { p99: number; max: number };
  '2xx': number;
  non2xx: number;
  errors: number;
}

/**
 * The longest a check may take: the time box beyond the wait every probe of the flood had for its turn
 * on the instance (the flood's own p99). On a machine of two cores the flood's queue, not readiness, is
 * what a check waits for; readiness itself must never add more than its time box, whatever the load.
 */
const checkBudgetMs = (flood: FloodResult) => TIMEOUT_MS + flood.latency.p99;

interface Poll {
  at: number;
  status: number;
  elapsedMs: number;
  body: Record<string, unknown>;
}

describe('a flood of /health on a real stack', () => {
  let stack: TestStack;
  /** The instance flooded: its API (the flood's target) and its management listener (the checks'). */
  let api: string;
  let management: string;
  let balancer: HaproxyAdmin;
  const flooded = 'checkout-1';

  before(async () => {
    // The shipped check cadence (every second, out after two failures), in front of two instances.
    stack = await startTestStack({ HAPROXY_STATS_PORT: '0' }, ['--instances', '2']);
    const instance = stack.info.instances.find((i) => i.name === flooded);
    assert.ok(instance?.managementUrl, 'behind HAProxy an instance has a management listener');
    api = instance.url;
    management = instance.managementUrl;
    balancer = new HaproxyAdmin(join(stack.dataDir, 'haproxy', 'admin.sock'), 'checkout');
    await eventually(
      async () => Object.values(await balancer.servers()).every((s) => s.status === 'UP'),
      15_000,
      'both instances UP',
    );
  });
  after(() => stack?.stop());

  const balancerView = async (): Promise<ServerState> => {
    const state = (await balancer.servers())[flooded];
    assert.ok(state, `HAProxy knows ${flooded}`);
    return state;
  };

  /**
   * autocannon in a process of its own (so its load does not slow this process's polls), against
   * 127.0.0.1: FLOOD_CONNECTIONS at once, at most FLOOD_MAX_REQUESTS over at most `seconds`.
   */
  const flood = async (url: string, seconds: number) => {
    const child = spawn(
      process.execPath,
      [
        AUTOCANNON,
        '--json',
        '-c',
        String(FLOOD_CONNECTIONS),
        '-d',
        String(seconds),
        '-t',
        '5',
        '-O',
        String(FLOOD_MAX_REQUESTS),
        url,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    await once(child, 'exit');
    clearTimeout(guard);
    const result = JSON.parse(out) as FloodResult;
    console.log(
      `flood of ${FLOOD_CONNECTIONS} connections on ${url}: ${result['2xx']} answered 2xx, ${result.non2xx} not, ` +
        `${result.errors} errors; latency p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
    );
    return result;
  };

  /** HAProxy-style checks of the management listener: a new connection every 200 ms, from `afterMs` on until `done` settles. */
  const pollReadiness = async (
    done: Promise<unknown>,
    path = '/health/ready',
    afterMs = 0,
  ): Promise<Poll[]> => {
    const polls: Poll[] = [];
    let finished = false;
    const finish = () => {
      finished = true;
    };
    done.then(finish, finish);
    const started = performance.now();
    await sleep(afterMs);
    while (!finished) {
      const client = new Client(management, { headersTimeout: 5000, bodyTimeout: 5000 });
      const at = performance.now();
      try {
        const response = await client.request({ method: 'GET', path });
        const body = (await response.body.json()) as Record<string, unknown>;
        polls.push({
          at: at - started,
          status: response.statusCode,
          elapsedMs: performance.now() - at,
          body,
        });
      } catch (error) {
        // No answer in time is a failed check, as HAProxy counts it.
        const body = { error: String(error) };
        polls.push({ at: at - started, status: 0, elapsedMs: performance.now() - at, body });
      } finally {
        await client.close();
      }
      await sleep(200);
    }
    return polls;
  };

  const commits = async () => {
    const { rows } = await stack.db.query<{ n: string }>(
      'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.n);
  };
  /** Transactions committed in the checkout database over `work`, once the backends' statistics are flushed. */
  const committedDuring = async (work: () => Promise<unknown>) => {
    const before = await commits();
    await work();
    // A backend flushes its counters when it goes idle, at most once a second.
    await sleep(2000);
    return (await commits()) - before;
  };

  /** A flood of /health with HAProxy-style checks beside it, and the transactions it cost the database. */
  const floodWithChecks = async () => {
    let result: FloodResult | undefined;
    let polls: Poll[] = [];
    const committed = await committedDuring(async () => {
      const flooding = flood(`${api}/health`, FLOOD_SECONDS);
      // The checks begin once the flood's thousand connections are open and sending.
      [result, polls] = await Promise.all([
        flooding,
        pollReadiness(flooding, '/health/ready', FLOOD_RAMP_MS),
      ]);
    });
    assert.ok(result);
    console.log(
      `${polls.length} checks beside it, slowest ${slowest(polls)} ms; ${committed} transactions committed`,
    );
    assert.ok(polls.length >= 10, `checked ${polls.length} times`);
    assert.deepEqual(
      polls.filter((p) => p.status !== 200 || p.body.db !== 'connected'),
      [],
      'every readiness check passed',
    );
    for (const poll of polls) {
      const age = Number(poll.body.dbCheckedMsAgo);
      assert.ok(age >= 0 && age <= INTERVAL_MS + TIMEOUT_MS, `the body says how old: ${age} ms`);
    }
    return { result, polls, committed };
  };

  test('healthy database: every check passes within the time box, and the flood costs no round trips', async () => {
    // What the stack commits on its own over as long (recovery, the stock committer, the probe itself).
    const quiet = await committedDuring(() => sleep(FLOOD_SECONDS * 1000));
    const before = await balancerView();
    const { result, polls, committed } = await floodWithChecks();
    const after = await balancerView();
    assert.equal(after.status, 'UP', "HAProxy's view of the flooded instance");
    assert.equal(after.failedChecks, before.failedChecks, "not one of HAProxy's own checks failed");
    assert.equal(after.timesDown, before.timesDown, 'HAProxy never took it out');
    assert.ok(result['2xx'] >= 5000, `the flood was served: ${JSON.stringify(result)}`);
    assert.equal(result.non2xx, 0, 'no probe of the flood was answered 503 either');
    assert.deepEqual(
      polls.filter((p) => p.elapsedMs >= checkBudgetMs(result)),
      [],
      `every check answered within the time box beyond the flood's own wait (${checkBudgetMs(result)} ms)`,
    );
    // At most one probe query an interval beside what the stack commits anyway: not one per probe.
    assert.ok(
      committed - quiet <= (FLOOD_SECONDS * 1000) / INTERVAL_MS + 20,
      `${result['2xx']} probes committed ${committed} transactions (quiet: ${quiet})`,
    );
  });

  test('a flood of /metrics costs at most a database read a second, and past a few at once a fast 503', async () => {
    const quiet = await committedDuring(() => sleep(FLOOD_SECONDS * 1000));
    let result: FloodResult | undefined;
    // Where Prometheus scrapes: the management listener (the API's port has no /metrics behind HAProxy).
    const committed = await committedDuring(async () => {
      result = await flood(`${management}/metrics`, FLOOD_SECONDS);
    });
    assert.ok(result && result['2xx'] >= 100, `scrapes were served: ${JSON.stringify(result)}`);
    assert.ok(result.non2xx > 0, 'past the scrapes allowed at once, refused');
    // The unsettled-attempts gauge is the one metric read from the database: once a second at most.
    assert.ok(
      committed - quiet <= FLOOD_SECONDS * 2 + 20,
      `${result['2xx']} scrapes committed ${committed} transactions (quiet: ${quiet})`,
    );
  });

  test('database stopped (SIGSTOP) under the flood: checks fail within the time box, live stays up, both recover', async () => {
    const postmaster = stack.info.pids.postgres as number;
    const flooding = flood(`${api}/health`, FLOOD_SECONDS);
    const live: Poll[] = [];
    let polls: Poll[] = [];
    let result: FloodResult | undefined;
    await sleep(FLOOD_RAMP_MS);
    // The backends as they are now: the health check's own connection among them.
    const frozen = [postmaster, ...childrenOf(postmaster)];
    const stoppedAt = performance.now();
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    try {
      const readyPolls = pollReadiness(flooding);
      const livePolls = pollReadiness(flooding, '/health/live');
      [polls, , result] = await Promise.all([readyPolls, livePolls.then((p) => live.push(...p)), flooding]);
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    }
    console.log(`${polls.length} checks beside it, slowest ${slowest(polls)} ms`);
    const settledBy = performance.now() - stoppedAt;
    assert.ok(settledBy > 3000, 'the database stayed stopped for the polls');
    // A result from before the stop may be served for up to an interval; after that, every check fails.
    const afterInterval = polls.filter((p) => p.at > INTERVAL_MS + TIMEOUT_MS);
    assert.ok(afterInterval.length >= 5, `${afterInterval.length} checks after the first interval`);
    for (const poll of afterInterval) {
      assert.equal(poll.status, 503, JSON.stringify(poll));
      assert.equal(poll.body.db, 'unreachable');
      assert.match(String(poll.body.error), /timeout/i);
    }
    assert.ok(result);
    const budget = checkBudgetMs(result);
    const slow = polls.filter((p) => p.elapsedMs >= budget);
    assert.deepEqual(
      slow,
      [],
      `every check answered within the time box beyond the flood's own wait (${budget} ms)`,
    );
    assert.ok(live.length >= 5);
    assert.deepEqual(
      live.filter((p) => p.status !== 200 || p.elapsedMs >= budget),
      [],
      '/health/live never touches the database: 200 within the time box while it is stopped',
    );
    await eventually(
      async () => (await fetch(`${management}/health/ready`)).status === 200,
      15_000,
      'readiness back to 200',
    );
    await eventually(async () => (await balancerView()).status === 'UP', 15_000, 'HAProxy takes it back');
  });
});
