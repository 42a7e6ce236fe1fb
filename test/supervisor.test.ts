import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { StackInfo } from '../src/stack/stackFile.ts';
import { CLI, childrenOf, portOpen } from './support/processes.ts';
import { eventually, startTestStack, type TestStack, testStackEnv } from './support/stack.ts';

// docs/architecture.md section 10: a service that dies is logged and restarted, as a process manager would; the rest stay up.
describe('steadfast start supervises what it started', () => {
  let stack: TestStack;
  let users = 0;
  const stackJson = async () =>
    JSON.parse(await readFile(join(stack.dataDir, 'stack.json'), 'utf8')) as StackInfo;
  const checkout = async () => {
    const { cartId, token } = await stack.cart(`usr_supervised_${users++}`);
    return stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'pm_card_visa' },
    });
  };

  before(async () => {
    stack = await startTestStack({ DB_CONNECT_TIMEOUT_MS: '1000' });
  });
  after(() => stack?.stop());

  test('a killed service comes back on the same port; the others stay up', async () => {
    const before = await stackJson();
    process.kill(before.pids.inventory as number, 'SIGKILL');
    await eventually(
      async () => (await stackJson()).pids.inventory !== before.pids.inventory,
      15_000,
      'inventory restarted',
    );
    const after = await stackJson();
    assert.equal(after.inventoryUrl, before.inventoryUrl);
    assert.equal(after.pids.checkout, before.pids.checkout, 'checkout was left alone');
    await eventually(
      async () => (await checkout()).status === 201,
      15_000,
      'a checkout through the new inventory',
    );
  });

  test('a service that dies while PostgreSQL is down keeps being restarted (with backoff) until it can start', async () => {
    const before = await stackJson();
    const port = Number(new URL(before.databaseUrl).port);
    const [wrapper] = execFileSync('pgrep', ['-P', String(before.pids.supervisor), '-f', 'postgresProcess'])
      .toString()
      .trim()
      .split('\n')
      .map(Number);
    assert.ok(wrapper);
    process.kill(wrapper, 'SIGSTOP');
    try {
      process.kill(before.pids.postgres as number, 'SIGINT');
      await eventually(async () => !(await portOpen(port)), 15_000, 'PostgreSQL down');
      process.kill(before.pids.checkout as number, 'SIGKILL');
      // Its first restarts fail preflight (no database): they must not use up the restarts at once.
      await new Promise((resolve) => setTimeout(resolve, 2500));
    } finally {
      process.kill(wrapper, 'SIGCONT');
    }
    await eventually(
      async () => (await stackJson()).pids.checkout !== before.pids.checkout,
      30_000,
      'checkout restarted',
    );
    await eventually(async () => (await checkout()).status === 201, 15_000, 'checkout serving again');
    const log = await readFile(join(stack.dataDir, 'logs', 'checkout.log'), 'utf8');
    assert.match(
      log,
      /STARTUP_FAILURE: Database at .* did not answer/,
      'a restart refused by preflight, logged',
    );
  });
});

/** Those of `pids` that still run (a zombie, exited and waiting to be reaped, does not). */
function running(pids: readonly number[]): number[] {
  if (pids.length === 0) return [];
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,stat=', '-p', pids.join(',')]).toString();
  } catch (error) {
    out = String((error as { stdout?: Buffer }).stdout ?? ''); // exit 1: none of them
  }
  return out
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, state]) => pid && !state?.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

interface Supervisor {
  child: ChildProcess;
  info: StackInfo;
  /** Its output so far, each line with when it came. */
  lines: { at: number; text: string }[];
  exited: Promise<{ code: number | null; at: number }>;
  /** What it started: its children (services, wrappers), theirs (PostgreSQL's postmaster) and the backends. */
  started: () => number[];
  /** What of `started()` (as read before the signal) still ran when `[steadfast] stopped` was printed. */
  runningAtStopped: number[] | undefined;
  /** Pids to check at the moment it prints `stopped`, and those. */
  watch: (pids: number[]) => void;
  watched: () => number[];
}

/** `steadfast start` as an operator runs it, in `dataDir` (a second run reuses it), on free ports. */
async function startSupervisor(dataDir: string, env: Record<string, string> = {}): Promise<Supervisor> {
  const child = spawn(process.execPath, [CLI, 'start', '--quiet'], {
    env: testStackEnv(dataDir, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Supervisor['lines'] = [];
  let watched: number[] = [];
  const supervisor: Partial<Supervisor> = { child, lines };
  let partial = '';
  const collect = (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      lines.push({ at: Date.now(), text: line });
      // Checked at once, while it may still be running: nothing it started may be left when it says so.
      if (line === '[steadfast] stopped') supervisor.runningAtStopped = running(watched);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, at: Date.now() }));
  const path = join(dataDir, 'stack.json');
  const deadline = Date.now() + 90_000;
  let info: StackInfo | undefined;
  // Until this run wrote it: a data directory reused holds the last run's.
  while (!info?.pids.checkout || info.pids.supervisor !== child.pid) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`steadfast start did not come up:\n${lines.map((l) => l.text).join('\n')}`);
    }
    await sleep(100);
    info = await readFile(path, 'utf8').then(
      (text) => JSON.parse(text) as StackInfo,
      () => undefined,
    );
  }
  const stackInfo = info;
  return Object.assign(supervisor, {
    info: stackInfo,
    exited,
    runningAtStopped: undefined,
    watch: (pids: number[]) => {
      watched = pids;
    },
    watched: () => watched,
    started: () => {
      const children = childrenOf(child.pid as number);
      const grandchildren = children.flatMap((pid) => childrenOf(pid));
      const postmaster = stackInfo.pids.postgres as number;
      return [...new Set([...children, ...grandchildren, postmaster, ...childrenOf(postmaster)])];
    },
  }) as Supervisor;
}

/**
 * Sends checkout a request that hits its stall failpoint, and waits for its log to say so (the log of an
 * earlier run in the same directory may say it already): its event loop is blocked from then on. `hung`
 * settles with how the request ended.
 */
async function stallCheckout(dataDir: string, info: StackInfo): Promise<{ hung: Promise<string> }> {
  const log = join(dataDir, 'logs', 'checkout.log');
  const before = await readFile(log, 'utf8').then((text) => text.length);
  const hung = fetch(`${info.checkoutUrl}/api/orders/${crypto.randomUUID()}`, {
    headers: { authorization: `Bearer ${info.demoToken}` },
    signal: AbortSignal.timeout(60_000),
  }).then(
    (response) => `answered ${response.status}`,
    (error: Error) => error.name,
  );
  await eventually(
    async () => (await readFile(log, 'utf8')).slice(before).includes('failpoint orders.read'),
    10_000,
    'checkout stalled',
  );
  // In an object: an async function's returned promise would be awaited with it.
  return { hung };
}

const said = (supervisor: Supervisor) => supervisor.lines.map((l) => l.text).join('\n');

/** Signals the supervisor and checks the stop: `stopped` said last, exit 0 in time, nothing left. */
async function assertStopsEverything(
  supervisor: Supervisor,
  signal: NodeJS.Signals,
  boundMs: number,
): Promise<{ pids: number[]; elapsedMs: number }> {
  const pids = supervisor.started();
  for (const name of ['checkout', 'inventory', 'payment', 'postgres'] as const) {
    assert.ok(pids.includes(supervisor.info.pids[name] as number), `${name} is among what it started`);
  }
  supervisor.watch(pids);
  const t0 = Date.now();
  supervisor.child.kill(signal);
  const exit = await Promise.race([
    supervisor.exited,
    sleep(boundMs + 10_000).then(() => {
      supervisor.child.kill('SIGKILL');
      throw new Error(`no exit within ${boundMs + 10_000} ms of ${signal}:\n${said(supervisor)}`);
    }),
  ]);
  const elapsedMs = exit.at - t0;
  assert.ok(elapsedMs < boundMs, `exited ${elapsedMs} ms after ${signal}:\n${said(supervisor)}`);
  assert.equal(exit.code, 0, said(supervisor));
  const ours = supervisor.lines.filter((l) => l.text.startsWith('[steadfast]'));
  assert.equal(ours.at(-1)?.text, '[steadfast] stopped', said(supervisor));
  assert.deepEqual(supervisor.runningAtStopped, [], 'nothing it started ran when it said "stopped"');
  assert.deepEqual(running(pids), [], `still running after the stop:\n${said(supervisor)}`);
  return { pids, elapsedMs };
}

// Ctrl-C, SIGTERM or SIGHUP stops every process `steadfast start` started, whatever state it is in,
// within each one's stop timeout and then SIGKILL; `stopped` is said only when nothing is left.
describe('steadfast start stops everything it started', () => {
  let dataDir: string;
  let supervisor: Supervisor;
  const supervisors: Supervisor[] = [];
  const start = async (env: Record<string, string> = {}) => {
    supervisor = await startSupervisor(dataDir, env);
    supervisors.push(supervisor);
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'steadfast-stop-'));
  });
  after(async () => {
    // What a failed test left running, the supervisor gone or not.
    for (const left of supervisors) {
      const pids = [...left.watched(), ...(left.child.exitCode === null ? left.started() : [])];
      left.child.kill('SIGKILL');
      for (const pid of running(pids)) process.kill(pid, 'SIGKILL');
    }
    if (process.env.KEEP_TEST_DATA) process.stderr.write(`test stack data kept in ${dataDir}\n`);
    else await rm(dataDir, { recursive: true, force: true });
  });

  test('PostgreSQL paused (SIGSTOP, postmaster and backends): Ctrl-C stops it and all the rest', async () => {
    await start();
    assert.equal((await stat(join(dataDir, 'stack.json'))).mode & 0o777, 0o600, 'stack.json holds secrets');
    assert.equal((await stat(join(dataDir, 'stack.env'))).mode & 0o777, 0o600);
    const logs = join(dataDir, 'logs');
    assert.equal((await stat(logs)).mode & 0o777, 0o700, 'the logs name users and errorIds');
    for (const file of await readdir(logs)) {
      assert.equal((await stat(join(logs, file))).mode & 0o777, 0o640, file);
    }
    const postmaster = supervisor.info.pids.postgres as number;
    const postgres = [postmaster, ...childrenOf(postmaster)];
    assert.ok(postgres.length > 3, 'the postmaster and its backends');
    for (const pid of postgres) process.kill(pid, 'SIGSTOP');
    const { pids } = await assertStopsEverything(supervisor, 'SIGINT', 30_000);
    for (const pid of postgres) assert.ok(pids.includes(pid), `postgres process ${pid} was checked`);
  });

  test('a second start reuses the data directory and makes an old 0644 stack.json 0600 again; a checkout hung in a request (SIGTERM never handled) is SIGKILLed on SIGHUP and named', async () => {
    await chmod(join(dataDir, 'stack.json'), 0o644);
    await chmod(join(dataDir, 'logs'), 0o755);
    // The stall blocks checkout's event loop: its SIGTERM handler never runs, as in a hung process.
    await start({ STEADFAST_FAILPOINT: 'orders.read:stall=600000', SHUTDOWN_TIMEOUT_MS: '2000' });
    assert.equal((await stat(join(dataDir, 'stack.json'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dataDir, 'logs'))).mode & 0o777, 0o700);
    const checkout = supervisor.info.pids.checkout as number;
    const { hung } = await stallCheckout(dataDir, supervisor.info);
    // Its stop timeout is its own shutdown timeout (2 s) and 5 s, then SIGKILL.
    const { elapsedMs } = await assertStopsEverything(supervisor, 'SIGHUP', 25_000);
    assert.ok(elapsedMs >= 7000, `checkout was given its stop timeout (${elapsedMs} ms)`);
    const output = said(supervisor);
    assert.match(output, /\[steadfast\] SIGHUP: stopping/);
    assert.match(output, new RegExp(`waiting for checkout \\(pid ${checkout}\\) to stop, SIGKILL in \\d+ s`));
    assert.match(
      output,
      new RegExp(`checkout \\(pid ${checkout}\\) did not stop within 7 s: SIGKILL to ${checkout}`),
    );
    assert.equal(await hung, 'TypeError', 'the hung request ended with its process (connection closed)');
  });

  test('a second signal during the stop SIGKILLs what is left at once, leaving nothing behind', async () => {
    await start({ STEADFAST_FAILPOINT: 'orders.read:stall=600000' });
    const checkout = supervisor.info.pids.checkout as number;
    const { hung } = await stallCheckout(dataDir, supervisor.info);
    const pids = supervisor.started();
    supervisor.watch(pids);
    supervisor.child.kill('SIGTERM');
    await eventually(
      async () => said(supervisor).includes(`waiting for checkout (pid ${checkout})`),
      10_000,
      'the notice',
    );
    const t0 = Date.now();
    supervisor.child.kill('SIGTERM');
    const exit = await supervisor.exited;
    // Its stop timeout alone is 20 s: only the second signal ends it this soon.
    assert.ok(
      exit.at - t0 < 8000,
      `exited ${exit.at - t0} ms after the second SIGTERM:\n${said(supervisor)}`,
    );
    assert.equal(exit.code, 0, said(supervisor));
    assert.match(said(supervisor), /SIGTERM again: SIGKILL to everything still running/);
    assert.match(said(supervisor), new RegExp(`killing checkout \\(pid ${checkout}\\): SIGKILL`));
    const ours = supervisor.lines.filter((l) => l.text.startsWith('[steadfast]'));
    assert.equal(ours.at(-1)?.text, '[steadfast] stopped', said(supervisor));
    assert.deepEqual(supervisor.runningAtStopped, []);
    assert.deepEqual(running(pids), []);
    assert.equal(await hung, 'TypeError', 'the hung request ended with its process (connection closed)');
  });
});

describe('npm start, stopped the way a process manager stops it', () => {
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    test(`${signal} to npm stops the whole stack, npm passing it on or dying of it`, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'steadfast-npm-'));
      const npm = spawn('npm', ['start', '--', '--quiet'], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: testStackEnv(dataDir),
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      let pids: number[] = [];
      try {
        let info: StackInfo | undefined;
        await eventually(
          async () => {
            const text = await readFile(join(dataDir, 'stack.json'), 'utf8');
            info = JSON.parse(text) as StackInfo;
            return Boolean(info.pids.checkout);
          },
          90_000,
          'the stack up',
        );
        const supervisorPid = info?.pids.supervisor as number;
        const descendants = (pid: number): number[] =>
          childrenOf(pid).flatMap((child) => [child, ...descendants(child)]);
        pids = [supervisorPid, ...descendants(supervisorPid)];
        assert.ok(pids.length > 5, `the supervisor and what it started: ${pids}`);
        npm.kill(signal);
        await eventually(
          async () => running(pids).length === 0,
          40_000,
          `nothing left after ${signal} to npm`,
        );
      } finally {
        npm.kill('SIGKILL');
        for (const pid of running(pids)) process.kill(pid, 'SIGKILL');
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  }
});
