import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import pino from 'pino';
import Type from 'typebox';
import { loadConfig } from '../config/loadConfig.ts';
import { tracingSettings } from '../config/settings.ts';
import { exportsSpans, startTracing, type TracingSettings, tracesUrl } from './startTracing.ts';
import { recordingSpans, startTrace } from './traceContext.ts';

const schema = Type.Object(tracingSettings);
const settings = (env: Record<string, string>): TracingSettings => {
  const loaded = loadConfig(schema, env);
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.problems.join('; '));
  return loaded.config as TracingSettings;
};

test('spans are exported only with an endpoint, and neither the SDK nor its exporter turned off', () => {
  assert.equal(exportsSpans(settings({})), false);
  assert.equal(exportsSpans(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })), true);
  assert.equal(
    exportsSpans(settings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })),
    true,
  );
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
  assert.equal(exportsSpans(settings({ ...endpoint, OTEL_SDK_DISABLED: 'true' })), false);
  assert.equal(exportsSpans(settings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })), false);
});

test('spans go to the traces endpoint as given, or to the base endpoint with /v1/traces', () => {
  assert.equal(
    tracesUrl(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })),
    'http://c:4318/v1/traces',
  );
  assert.equal(
    tracesUrl(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/otlp/' })),
    'http://c:4318/otlp/v1/traces',
  );
  assert.equal(
    tracesUrl(
      settings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:1/x',
      }),
    ),
    'http://t:1/x',
  );
});

test('the OTEL_* settings are refused at startup when malformed, every one named', () => {
  const loaded = loadConfig(schema, {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_TRACES_SAMPLER: 'sometimes',
    OTEL_TRACES_SAMPLER_ARG: '2',
  });
  assert.equal(loaded.ok, false);
  const problems = loaded.ok ? [] : loaded.problems;
  for (const name of [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    'OTEL_TRACES_SAMPLER',
    'OTEL_TRACES_SAMPLER_ARG',
  ])
    assert.ok(
      problems.some((p) => p.includes(`'${name}'`)),
      `${name} among ${problems}`,
    );
});

test('without an endpoint nothing is recorded: work gets ids of its own, no span', async () => {
  const tracing = startTracing(
    { name: 'test', version: '0.0.0', logger: pino({ level: 'silent' }) },
    settings({}),
  );
  assert.equal(tracing.exporting, false);
  assert.equal(recordingSpans(), undefined);
  const work = startTrace('GET');
  assert.equal(work.span.isRecording(), false);
  assert.match(work.span.spanContext().spanId, /^[0-9a-f]{16}$/);
  await tracing.shutdown();
});

test('exported by default as the specification says, http/protobuf; http/json when asked', async () => {
  const bodies: { type: string | undefined; body: Buffer }[] = [];
  const collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push({ type: request.headers['content-type'], body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': String(request.headers['content-type']) }).end();
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  try {
    const tracing = startTracing(
      { name: 'test', version: '0.0.0', logger: pino({ level: 'silent' }) },
      settings({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }),
    );
    const work = startTrace('GET /x');
    work.span.end();
    await tracing.shutdown();
    assert.equal(bodies[0]?.type, 'application/x-protobuf');
    const traceId = Buffer.from(work.span.spanContext().traceId, 'hex');
    assert.ok(bodies[0]?.body.includes(traceId), "the span's trace id, as protobuf's bytes");
  } finally {
    await new Promise((resolve) => collector.close(resolve));
  }
  const json = settings({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  });
  assert.equal(json.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/json');
});

test('a stop whose last spans find no collector ends cleanly, and soon', async () => {
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  const tracing = startTracing(
    { name: 'test', version: '0.0.0', logger: pino({ level: 'silent' }) },
    settings({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }),
  );
  startTrace('GET /x').span.end();
  const started = performance.now();
  await tracing.shutdown();
  assert.ok(performance.now() - started < 5000, 'within the final export time and a margin');
});
