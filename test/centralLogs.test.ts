/**
 * `steadfast start --central-logs`: every service ships its lines to rsyslog as it writes them. An
 * instance killed under load, its local logs deleted, has left at the collector every line it wrote. A
 * collector that hangs (SIGSTOP) or is gone (stopped) for 10 s under load holds no request up, and gets
 * every line written meanwhile once it runs again.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import type { StackInfo } from '../src/stack/stackFile.ts';
import { runCli } from './support/processes.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

const CLIENTS = 6;

/** Lines of one instance at the collector, every day's file of it. */
async function collected(info: StackInfo, instance: string): Promise<string[]> {
  const dir = info.centralLogs?.logsDir ?? assert.fail('stack.json names the central logs');
  const files = (await readdir(dir)).filter((name) => name.startsWith(`${instance}-`)).sort();
  const texts = await Promise.all(files.map((name) => readFile(join(dir, name), 'utf8')));
  return texts.flatMap((text) => text.split('\n').filter((line) => line.startsWith('{')));
}

/** The value of an unlabelled-but-for-service series in a scrape. */
const metric = (scrape: string, name: string) =>
  Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(scrape)?.[1] ?? Number.NaN);

/** The lines that parse: one cut off as a connection broke is written by rsyslog as far as it came. */
const parsed = (lines: readonly string[]) =>
  lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as { msg?: string; requestId?: string }];
    } catch {
      return [];
    }
  });

const requestIds = (lines: readonly string[]) =>
  new Set(
    parsed(lines)
      .filter((line) => line.msg === 'request_completed' && line.requestId)
      .map((line) => line.requestId as string),
  );

/**
 * CLIENTS clients reading the demo cart until `stop` says so or an answer fails: each client's request
 * ids in the order their answers came, and how many answers each second (the service kept serving).
 */
async function load(stack: TestStack, stop: () => boolean) {
  const agent = new Agent({ connections: CLIENTS });
  const answered: { id: string; at: number }[][] = [];
  const failures: string[] = [];
  const url = `${stack.info.checkoutUrl}/api/carts/${stack.info.demoCartId}`;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const ids: { id: string; at: number }[] = [];
      answered[client] = ids;
      while (!stop()) {
        try {
          const response = await request(url, {
            dispatcher: agent,
            headers: { authorization: `Bearer ${stack.info.demoToken}` },
            headersTimeout: 5000,
            bodyTimeout: 5000,
          });
          await response.body.text();
          if (response.statusCode !== 200) failures.push(String(response.statusCode));
          ids.push({ id: String(response.headers['x-request-id']), at: Date.now() });
        } catch (error) {
          failures.push((error as Error).message);
          return;
        }
      }
    }),
  );
  await agent.close();
  return { answered, failures };
}

/** The parent of a process, from /proc. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** `running` until the process has exited (a zombie, its parent held still, counts as exited). */
function stateOf(pid: number): 'running' | 'exited' {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') ? 'exited' : 'running';
  } catch {
    return 'exited';
  }
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(200);
  }
  return check();
}

describe('central logs [rsyslog]', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startTestStack({}, ['--central-logs']);
  });
  after(() => stack?.stop());

  it('an instance killed under load has left every line it wrote at the collector', async () => {
    const pid = stack.info.instances[0]?.pid ?? assert.fail('stack.json names the checkout pid');
    const clients = load(stack, () => false);
    await sleep(3000);
    process.kill(pid, 'SIGKILL');
    const { answered } = await clients;
    // What its stdout carried has reached the supervisor's copy; then the instance's local logs go, as
    // with the machine they were on.
    await sleep(500);
    const logsDir = join(stack.dataDir, 'logs');
    const local = (await readFile(join(logsDir, 'checkout.log'), 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('{'));
    for (const name of await readdir(logsDir)) {
      if (name.startsWith('checkout.')) await rm(join(logsDir, name));
    }
    await sleep(1000);

    const central = await collected(stack.info, 'checkout');
    const centralSet = new Set(central);
    const missing = local.filter((line) => !centralSet.has(line));
    const centralIds = requestIds(central);
    // A response is on its way before its line is written: a kill between the two leaves an answer no
    // copy has a line of, and only each client's last one can be such.
    const unlogged = answered.flatMap((ids) => ids.map((a) => a.id).filter((id) => !centralIds.has(id)));
    const lastOfEach = new Set(answered.map((ids) => ids.at(-1)?.id));
    const total = answered.reduce((sum, ids) => sum + ids.length, 0);
    process.stdout.write(
      `central logs after SIGKILL: ${central.length} lines at the collector, ${local.length} in the local copy, ` +
        `${missing.length} of them missing (cut); ${total} answers, ${total - unlogged.length} with their line ` +
        `(${unlogged.length} answered in the kill's moment)\n`,
    );
    assert.ok(total > 100, `the load ran (${total} answers)`);
    // A line the kernel took part of as the kill came arrives cut (the rest died in the process with
    // it): that one, at most, is at the collector only as far as it came.
    const cut = central.filter((line) => !parsed([line]).length);
    assert.ok(
      missing.length <= 1 && missing.every((line) => cut.some((part) => line.startsWith(part))),
      `every line of the local copy is at the collector, the one being written as the kill came at least in part: ${missing.map((line) => line.slice(0, 200)).join('\n')}`,
    );
    assert.ok(
      unlogged.every((id) => lastOfEach.has(id)),
      `only a client's last answer may lack its line: ${unlogged.join(', ')}`,
    );

    // Triage on the central copy, its day file compressed as an operator keeps old days, once the supervisor
    // has started the instance again: the instance died, and when.
    const starts = async () =>
      parsed(await collected(stack.info, 'checkout')).filter((line) => line.msg === 'service_started') as {
        pid?: number;
        configHash?: string;
      }[];
    assert.ok(
      await eventually(async () => (await starts()).some((line) => line.pid !== pid), 60_000),
      'the instance started again',
    );
    const [first, again] = await starts();
    assert.equal(again?.configHash, first?.configHash, 'restarted on the port it had: the same settings');
    const copy = await mkdtemp(join(tmpdir(), 'central-logs-'));
    try {
      const dir = stack.info.centralLogs?.logsDir as string;
      for (const name of await readdir(dir)) {
        const text = await readFile(join(dir, name));
        if (name.startsWith('checkout-')) await writeFile(join(copy, `${name}.gz`), gzipSync(text));
        else await writeFile(join(copy, name), text);
      }
      const run = await runCli(['triage', '--logs', copy, '--format', 'json'], {});
      const report = JSON.parse(run.stdout) as {
        abruptStops?: { instance: string; lastLine: { time?: string }; restartedAt?: string }[];
      };
      const stop = report.abruptStops?.find((s) => s.instance === 'checkout');
      assert.ok(stop, `triage names the instance that died: ${run.stdout.slice(0, 2000)}`);
      assert.ok(stop.restartedAt, 'and when it started again');
      const lastLine = Date.parse(stop.lastLine.time ?? '');
      assert.ok(
        Math.abs(lastLine - Date.parse(JSON.parse(local.at(-1) as string).time)) < 1000,
        'its last line is the last the instance wrote',
      );
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('a collector hung for 10 s holds no request up, and gets the lines once it runs again', async () => {
    const info = JSON.parse(await readFile(join(stack.dataDir, 'stack.json'), 'utf8')) as StackInfo;
    const rsyslog = info.pids.rsyslog ?? assert.fail('stack.json names the collector pid');
    const checkout = info.instances[0]?.url ?? assert.fail('a checkout instance');
    // The instance killed above is back (the supervisor restarts it on its port).
    assert.ok(
      await eventually(
        () =>
          fetch(`${checkout}/health/ready`).then(
            (r) => r.ok,
            () => false,
          ),
        60_000,
      ),
      'the checkout answers again',
    );
    const before = requestIds(await collected(info, 'checkout'));
    let stopped = false;
    const clients = load(stack, () => stopped);
    await sleep(1000);
    process.kill(rsyslog, 'SIGSTOP');
    try {
      await sleep(10_000);
    } finally {
      process.kill(rsyslog, 'SIGCONT');
    }
    await sleep(1000);
    stopped = true;
    const { answered, failures } = await clients;
    assert.deepEqual(failures, [], 'every request answered 200 while the collector was stopped');
    const ids = answered
      .flat()
      .map((answer) => answer.id)
      .filter((id) => !before.has(id));
    const arrived = await eventually(async () => {
      const central = requestIds(await collected(info, 'checkout'));
      return ids.every((id) => central.has(id));
    }, 30_000);
    const central = requestIds(await collected(info, 'checkout'));
    const dropped = metric(await (await fetch(`${checkout}/metrics`)).text(), 'log_lines_dropped_total');
    process.stdout.write(
      `central logs, collector hung 10 s: ${ids.length} requests answered, ` +
        `${ids.filter((id) => central.has(id)).length} of their lines arrived after it ran again, ${dropped} dropped\n`,
    );
    assert.ok(ids.length > 500, `the load ran through the stop (${ids.length} answers)`);
    assert.ok(arrived, 'every line written while the collector was stopped arrived once it ran again');
    assert.equal(dropped, 0, 'nothing dropped: the buffer held it all');
  });

  it('a collector gone for 10 s: the service holds its lines and delivers them once it is back', async () => {
    const info = JSON.parse(await readFile(join(stack.dataDir, 'stack.json'), 'utf8')) as StackInfo;
    const rsyslog = info.pids.rsyslog ?? assert.fail('stack.json names the collector pid');
    const checkout = info.instances[0]?.url ?? assert.fail('a checkout instance');
    // Its wrapper, held still, cannot see it go: the supervisor brings it back only once it runs again.
    const wrapper = parentOf(rsyslog);
    let stopped = false;
    const clients = load(stack, () => stopped);
    await sleep(1000);
    process.kill(wrapper, 'SIGSTOP');
    let gone = 0;
    let held = 0;
    const lostBefore = metric(
      await (await fetch(`${checkout}/metrics`)).text(),
      'log_collector_connections_lost_total',
    );
    try {
      process.kill(rsyslog, 'SIGTERM');
      assert.ok(await eventually(async () => stateOf(rsyslog) === 'exited', 10_000), 'rsyslog stopped');
      // Gone for the service once it has seen its connection go: lines written before that went into a
      // socket whose peer had closed, in flight as the collector went, which plain TCP loses.
      assert.ok(
        await eventually(
          async () =>
            metric(
              await (await fetch(`${checkout}/metrics`)).text(),
              'log_collector_connections_lost_total',
            ) > lostBefore,
          10_000,
        ),
        'the service saw its connection to the collector go',
      );
      gone = Date.now();
      await sleep(10_000);
      held = metric(await (await fetch(`${checkout}/metrics`)).text(), 'log_held_bytes');
    } finally {
      process.kill(wrapper, 'SIGCONT');
    }
    await sleep(1000);
    stopped = true;
    const { answered, failures } = await clients;
    assert.deepEqual(failures, [], 'every request answered 200 while the collector was gone');
    assert.ok(held > 0, `the service held its lines meanwhile (${held} bytes)`);
    // Back (the supervisor restarts it on its port), it gets what was held. Plain TCP loses what was in
    // flight as the collector went; every line written once it was gone was held, and arrives.
    const whileGone = answered.flat().filter((answer) => answer.at > gone);
    await eventually(async () => {
      const central = requestIds(await collected(info, 'checkout'));
      return whileGone.every((answer) => central.has(answer.id));
    }, 60_000);
    const heldAfter = metric(await (await fetch(`${checkout}/metrics`)).text(), 'log_held_bytes');
    assert.equal(heldAfter, 0, 'the service holds nothing once the collector is back');
    const lines = await collected(info, 'checkout');
    const cut = lines.length - parsed(lines).length;
    const central = requestIds(lines);
    const lost = whileGone.filter((answer) => !central.has(answer.id));
    const dropped = metric(await (await fetch(`${checkout}/metrics`)).text(), 'log_lines_dropped_total');
    process.stdout.write(
      `central logs, collector gone 10 s: ${whileGone.length} requests answered meanwhile, held ` +
        `${held} bytes at the end, ${whileGone.length - lost.length} of their lines arrived, ${dropped} dropped; ` +
        `${cut} lines cut off as the collector went\n`,
    );
    assert.ok(whileGone.length > 500, `the load ran while it was gone (${whileGone.length} answers)`);
    assert.deepEqual(lost, [], 'every line written while the collector was gone arrived');
    assert.equal(dropped, 0, 'nothing dropped: the buffer held it all');
  });
});
