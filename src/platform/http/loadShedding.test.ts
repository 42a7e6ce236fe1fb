import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { PlatformMetrics } from '../metrics/PlatformMetrics.ts';
import { createHttpServer } from './createHttpServer.ts';
import { admissionLimit, type LoadSheddingOptions, registerLoadShedding } from './loadShedding.ts';

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

test('an adaptive limit is read at each request, and hears how long each answer took but faults', async () => {
  const samples: { latencyMs: number; inFlight: number }[] = [];
  const limit = {
    limit: 1,
    onSample: (latencyMs: number, inFlight: number) => samples.push({ latencyMs, inFlight }),
  };
  const admission = admissionLimit(limit);
  const app = createHttpServer({
    logger: pino({ level: 'silent' }),
    metrics: new PlatformMetrics('test'),
    bodyLimit: 1024,
  });
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  app.get('/slow', { onRequest: admission.hook }, async () => {
    await held;
    return { ok: true };
  });
  app.get('/fault', { onRequest: admission.hook }, async () => {
    throw new Error('a bug');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const first = fetch(`${base}/slow`);
  await sleep(100);
  assert.equal(admission.inFlight, 1);
  assert.equal((await fetch(`${base}/slow`)).status, 503, 'the limit of 1 is full');
  limit.limit = 2;
  const second = fetch(`${base}/slow`);
  await sleep(100);
  assert.equal(admission.inFlight, 2, 'let in once the limit grew');
  release();
  assert.deepEqual(
    (await Promise.all([first, second])).map((r) => r.status),
    [200, 200],
  );
  assert.equal((await fetch(`${base}/fault`)).status, 500);
  assert.equal(admission.inFlight, 0);
  assert.equal(samples.length, 2, 'the two answers, not the shed one nor the fault');
  assert.ok(samples.every((s) => s.latencyMs >= 90));
  assert.deepEqual(samples.map((s) => s.inFlight).sort(), [1, 2]);
  await app.close();
});

test("answers the route's own test keeps out (a replay, a refusal) teach an adaptive limit nothing", async () => {
  const samples: number[] = [];
  const admission = admissionLimit(
    { limit: 10, onSample: (latencyMs) => samples.push(latencyMs) },
    () => {},
    (reply) => reply.statusCode === 201 && !reply.hasHeader('idempotent-replayed'),
  );
  const app = createHttpServer({
    logger: pino({ level: 'silent' }),
    metrics: new PlatformMetrics('test'),
    bodyLimit: 1024,
  });
  app.post('/work', { onRequest: admission.hook }, async (_request, reply) => {
    await sleep(50);
    return reply.code(201).send({ done: true });
  });
  app.post('/replay', { onRequest: admission.hook }, async (_request, reply) =>
    reply.code(201).header('idempotent-replayed', 'true').send({ done: true }),
  );
  app.post('/refused', { onRequest: admission.hook }, async (_request, reply) => reply.code(429).send({}));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  for (const path of ['/replay', '/refused', '/replay', '/work', '/refused'])
    await (await fetch(`${base}${path}`, { method: 'POST' })).text();
  await sleep(50);
  assert.equal(samples.length, 1, 'only the work done');
  assert.ok((samples[0] ?? 0) >= 45);
  await app.close();
});
