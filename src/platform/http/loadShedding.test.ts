import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { PlatformMetrics } from '../metrics/PlatformMetrics.ts';
import { createHttpServer } from './createHttpServer.ts';
import { type LoadSheddingOptions, registerLoadShedding } from './loadShedding.ts';

const OFF = { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0, maxHeapUsedBytes: 0 };

async function sheddingServer(options: Omit<LoadSheddingOptions, 'onShed'>) {
  const metrics = new PlatformMetrics('test');
  const app = createHttpServer({ logger: pino({ level: 'silent' }), metrics, bodyLimit: 1024 });
  await registerLoadShedding(app, { ...options, onShed: (reason) => metrics.recordShed(reason) });
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  app.get('/slow', async () => {
    await held;
    return { ok: true };
  });
  app.get('/fast', async () => ({ ok: true }));
  app.get('/health/live', async () => ({ status: 'ok' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { app, metrics, base, release };
}

function busyFor(ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // A handler stuck on the CPU: the event loop answers nothing meanwhile.
  }
}

test('past the in-flight cap a request is refused at once with SERVER_OVERLOADED; health is never shed', async () => {
  const { app, metrics, base, release } = await sheddingServer({
    ...OFF,
    maxConcurrent: 2,
    sampleIntervalMs: 1000,
  });
  const held = [fetch(`${base}/slow`), fetch(`${base}/slow`)];
  await sleep(100);
  const refused = await fetch(`${base}/fast`);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal(((await refused.json()) as { error: string }).error, 'SERVER_OVERLOADED');
  assert.equal((await fetch(`${base}/health/live`)).status, 200);
  assert.equal(await metrics.valueOf('http_requests_shed_total', { reason: 'in_flight' }), 1);
  release();
  assert.deepEqual(
    (await Promise.all(held)).map((r) => r.status),
    [200, 200],
  );
  assert.equal((await fetch(`${base}/fast`)).status, 200);
  await app.close();
});

const BUSY_LOOPS = [
  {
    name: 'a lagging event loop',
    marks: { maxEventLoopDelayMs: 50 },
    reason: 'event_loop_delay',
    busyMs: 150,
  },
  {
    name: 'an event loop busy past its utilisation mark',
    marks: { maxEventLoopUtilization: 0.8 },
    reason: 'event_loop_utilization',
    busyMs: 100,
  },
] as const;

for (const { name, marks, reason, busyMs } of BUSY_LOOPS) {
  test(`${name} sheds new requests until a sample finds it well again`, async () => {
    const { app, metrics, base } = await sheddingServer({
      ...OFF,
      ...marks,
      maxConcurrent: 100,
      sampleIntervalMs: 100,
    });
    assert.equal((await fetch(`${base}/fast`)).status, 200);
    // Blocked in steps, so the samples see a loop that is busy for a whole sample.
    for (let i = 0; i < 6; i++) {
      busyFor(busyMs);
      await sleep(1);
    }
    const refused = await fetch(`${base}/fast`);
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: string }).error, 'SERVER_OVERLOADED');
    assert.equal((await fetch(`${base}/health/live`)).status, 200, 'health is answered under pressure');
    assert.ok(((await metrics.valueOf('http_requests_shed_total', { reason })) ?? 0) >= 1);
    await sleep(400);
    assert.equal((await fetch(`${base}/fast`)).status, 200, 'served again once the loop is well');
    await app.close();
  });
}

test('a heap past its mark sheds new requests, by that reason', async () => {
  const { app, metrics, base } = await sheddingServer({
    ...OFF,
    maxConcurrent: 100,
    // Any heap is past one byte: the first sample finds the process short of memory.
    maxHeapUsedBytes: 1,
    sampleIntervalMs: 50,
  });
  await sleep(200);
  const refused = await fetch(`${base}/fast`);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal(((await refused.json()) as { error: string }).error, 'SERVER_OVERLOADED');
  assert.equal((await fetch(`${base}/health/live`)).status, 200, 'health is answered under pressure');
  assert.equal(await metrics.valueOf('http_requests_shed_total', { reason: 'heap_used' }), 1);
  await app.close();
});
