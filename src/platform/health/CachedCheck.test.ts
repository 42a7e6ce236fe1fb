import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CachedCheck } from './CachedCheck.ts';

/** A check whose runs the test settles by hand, on a clock the test moves. */
function harness(options: { intervalMs?: number; timeoutMs?: number } = {}) {
  let clock = 0;
  const pending: ((value: string) => void)[] = [];
  const check = new CachedCheck<string>({
    intervalMs: options.intervalMs ?? 1000,
    timeoutMs: options.timeoutMs ?? 400,
    run: () => new Promise<string>((resolve) => pending.push(resolve)),
    timedOut: () => 'timed out',
    failed: (error) => `failed: ${(error as Error).message}`,
    now: () => clock,
  });
  return {
    check,
    pending,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

test('many readers at once: one run in flight, every reader gets its result', async () => {
  const { check, pending } = harness();
  const readers = Array.from({ length: 1000 }, () => check.read());
  assert.equal(check.runs, 1);
  pending[0]?.('ok');
  const readings = await Promise.all(readers);
  assert.ok(readings.every((r) => r.value === 'ok' && r.ageMs === 0));
  assert.equal(pending.length, 1);
});

test('within the interval the last result is reused, with its age; past it the check runs again', async () => {
  const { check, pending, advance } = harness({ intervalMs: 1000, timeoutMs: 400 });
  const first = check.read();
  pending[0]?.('ok');
  await first;
  advance(999);
  for (let i = 0; i < 100; i++) assert.deepEqual(await check.read(), { value: 'ok', ageMs: 999 });
  assert.equal(check.runs, 1, 'no run within the interval');
  advance(1);
  // The next run starts; while it runs, readers are not kept waiting: the last result, with its age.
  assert.deepEqual(await check.read(), { value: 'ok', ageMs: 1000 });
  assert.deepEqual(await check.read(), { value: 'ok', ageMs: 1000 });
  assert.equal(check.runs, 2, 'one run once the result is an interval old');
  pending[1]?.('down');
  await sleep(0);
  assert.deepEqual(await check.read(), { value: 'down', ageMs: 0 });
});

test('a result older than an interval and a time box no longer vouches: readers wait for the run', async () => {
  const { check, pending, advance } = harness({ intervalMs: 1000, timeoutMs: 400 });
  const first = check.read();
  pending[0]?.('ok');
  await first;
  advance(1400);
  const reading = check.read();
  assert.equal(check.runs, 2);
  pending[1]?.('down');
  assert.deepEqual(await reading, { value: 'down', ageMs: 0 });
});

test('a hung check is answered within the time box, and never gets a second run beside it', async () => {
  // Real time here: the reader's wait is a real timer.
  const check = new CachedCheck<string>({
    intervalMs: 50,
    timeoutMs: 100,
    run: () => new Promise<string>(() => {}),
    timedOut: () => 'timed out',
    failed: () => 'failed',
  });
  const started = performance.now();
  const reading = await check.read();
  const waited = performance.now() - started;
  assert.equal(reading.value, 'timed out');
  assert.ok(waited >= 95 && waited < 300, `answered after ${Math.round(waited)} ms`);
  // Past the deadline, later readers are told at once, and the hung run stays the only one.
  await sleep(100);
  const again = performance.now();
  const later = await check.read();
  assert.equal(later.value, 'timed out');
  assert.ok(performance.now() - again < 20, 'answered at once past the deadline');
  assert.ok(later.ageMs >= 90, `the timeout is as old as its deadline: ${later.ageMs}`);
  assert.equal(check.runs, 1);
});

test('a check that hangs after a good one: the good one for a time box more, then a timeout, told at once', async () => {
  let calls = 0;
  const check = new CachedCheck<string>({
    intervalMs: 50,
    timeoutMs: 100,
    run: () => (calls++ === 0 ? Promise.resolve('ok') : new Promise<string>(() => {})),
    timedOut: () => 'timed out',
    failed: () => 'failed',
  });
  assert.equal((await check.read()).value, 'ok');
  await sleep(60);
  assert.equal((await check.read()).value, 'ok', 'within a time box past the interval, at once');
  assert.equal(check.runs, 2, 'the next run is under way');
  await sleep(150);
  const asked = performance.now();
  assert.equal((await check.read()).value, 'timed out');
  assert.ok(performance.now() - asked < 20, 'past the run deadline, told at once');
  assert.equal(check.runs, 2, 'still one run in flight');
});

test('a hung check that settles at last is replaced by its result; the next run waits for the interval', async () => {
  const check = new CachedCheck<string>({
    intervalMs: 1000,
    timeoutMs: 100,
    run: () => sleep(150, 'slow but ok'),
    timedOut: () => 'timed out',
    failed: () => 'failed',
  });
  assert.equal((await check.read()).value, 'timed out');
  await sleep(100);
  const reading = await check.read();
  assert.equal(reading.value, 'slow but ok');
  assert.ok(reading.ageMs < 100, `its age counts from when it settled: ${reading.ageMs}`);
  assert.equal(check.runs, 1);
});

test('a check that throws is a failed result, not a rejected read', async () => {
  const check = new CachedCheck<string>({
    intervalMs: 1000,
    timeoutMs: 400,
    run: async () => {
      throw new Error('boom');
    },
    timedOut: () => 'timed out',
    failed: (error) => `failed: ${(error as Error).message}`,
  });
  assert.equal((await check.read()).value, 'failed: boom');
  assert.equal((await check.read()).value, 'failed: boom', 'reused within the interval');
  assert.equal(check.runs, 1);
});

test('on a busy event loop, an answer that arrived before the deadline is not taken for a timeout', async () => {
  // A real socket: the answer is in it (the peer wrote it at once) while this process is stuck in
  // synchronous work past the deadline, as under a flood; the deadline's timer then runs before I/O.
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [peer] = (await accepted) as [import('node:net').Socket];
  await once(client, 'connect');
  const check = new CachedCheck<string>({
    intervalMs: 1000,
    timeoutMs: 50,
    run: async () => {
      peer.write('ok');
      const [data] = await once(client, 'data');
      return String(data);
    },
    timedOut: () => 'timed out',
    failed: () => 'failed',
  });
  try {
    const reading = check.read();
    const blockedUntil = performance.now() + 150;
    while (performance.now() < blockedUntil) {
      // the event loop is busy
    }
    assert.equal((await reading).value, 'ok');
  } finally {
    client.destroy();
    peer.destroy();
    server.close();
  }
});
