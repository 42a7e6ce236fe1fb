import assert from 'node:assert/strict';
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
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_TRACES_SAMPLER: 'sometimes',
    OTEL_TRACES_SAMPLER_ARG: '2',
  });
  assert.equal(loaded.ok, false);
  const problems = loaded.ok ? [] : loaded.problems;
  for (const name of [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
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
