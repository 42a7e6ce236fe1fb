import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CheckoutMetrics } from '../checkout/checkoutMetrics.ts';
import { PlatformMetrics } from '../platform/metrics/PlatformMetrics.ts';
import { Metrics, NodeMetrics } from './metrics.ts';
import { linesWrittenAround } from './writtenAround.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = fileURLToPath(new URL('..', import.meta.url));

/** The project's modules, tests and fixtures left out. */
const modules = globSync('**/*.ts', { cwd: SRC })
  .filter((file) => !/\.(test|fixture|d)\.ts$/.test(file))
  .map((file) => ({ file, source: readFileSync(`${SRC}/${file}`, 'utf8') }));

const importsOf = (source: string) =>
  [...source.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)].map((m) => m[1] as string);

test('the contract imports nothing, and the layers depend one way', () => {
  const broken: string[] = [];
  for (const { file, source } of modules) {
    const layer = file.split('/')[0];
    for (const spec of importsOf(source).filter((s) => s.startsWith('.'))) {
      const path = fileURLToPath(new URL(spec, `file://${SRC}/${file}`));
      const target = relative(SRC, path).split('/')[0];
      // Triage reads any stack from outside: it may use a leaf (a parser importing nothing), never a service.
      const leaf = !importsOf(readFileSync(path, 'utf8')).some((s) => s.startsWith('.'));
      const allowed =
        layer === 'contract'
          ? false
          : layer === 'triage'
            ? target === 'triage' || target === 'contract' || leaf
            : layer === 'platform'
              ? ['platform', 'contract', 'triage', 'types'].includes(target ?? '')
              : true;
      if (!allowed) broken.push(`${file} imports ${spec}`);
    }
    if (layer === 'contract' && importsOf(source).length > 0)
      broken.push(`${file} imports ${importsOf(source)}`);
  }
  assert.deepEqual(broken, []);
});

test('every log line goes through the contract: no logger is handed a message of its own', () => {
  const around = modules.flatMap(({ file, source }) =>
    linesWrittenAround(source).map(({ line, message }) => `${file}:${line} ${message}`),
  );
  assert.deepEqual(around, [], 'write these with logEvent and declare their event in contract/logEvents.ts');
});

test('every metric a service registers is declared, with its labels', async () => {
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  const fromNode = new Set(defaults.getMetricsAsArray().map((m) => m.name));
  for (const name of Object.values(NodeMetrics))
    assert.ok(fromNode.has(name), `prom-client still exposes ${name}`);

  const platform = new PlatformMetrics('checkout');
  new CheckoutMetrics(platform.registry, async () => 0);
  // Registered when the service ships its lines to a collector (LOG_SYSLOG_URL).
  platform.watchLogShipper({ droppedLines: 0, heldBytes: 0, connectionsLost: 0 });
  // Registered by the checkout for its route's admission limit.
  platform.watchAdmission('/api/checkout/complete', { limit: 38, inFlight: 0 });
  const declared = new Map<string, readonly string[]>(
    Object.values(Metrics).map((m) => [m.name, 'labelNames' in m ? m.labelNames : []]),
  );
  const registered = (await platform.registry.getMetricsAsJSON()).filter((m) => !fromNode.has(m.name));
  const undeclared = registered.filter((m) => !declared.has(m.name)).map((m) => m.name);
  assert.deepEqual(undeclared, [], 'declare these in contract/metrics.ts');
  for (const metric of registered) {
    const labels = new Set(metric.values.flatMap((v) => Object.keys(v.labels)));
    labels.delete('service');
    labels.delete('le');
    for (const label of labels)
      assert.ok(declared.get(metric.name)?.includes(label), `${metric.name}{${label}}`);
  }
  // Every declared name is registered by some service: a name the contract keeps after its metric went is a lie.
  const names = new Set((await platform.registry.getMetricsAsJSON()).map((m) => m.name));
  assert.deepEqual(
    [...declared.keys()].filter((name) => !names.has(name)),
    [],
  );
});

test('the alert rules read only declared metrics', () => {
  const rules = readFileSync(`${ROOT}/ops/prometheus/rules/steadfast.rules.yml`, 'utf8');
  const expressions = [...rules.matchAll(/expr: (\|\n(?: {10}.*\n)+|.*)/g)].map((m) => m[1] as string);
  assert.ok(expressions.length > 5, 'the rules were read');
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  const known = new Set([
    // Prometheus's own series of each target.
    'up',
    ...Object.values(Metrics).map((m) => m.name),
    ...defaults.getMetricsAsArray().map((m) => m.name),
  ]);
  const read = new Set(
    expressions.flatMap((expression) =>
      [...expression.matchAll(/\b([a-z_][a-z0-9_:]*)\s*[{[]/g)].map((m) => m[1] as string),
    ),
  );
  // Recording rules (`level:metric:operation`) are the rules' own names; histograms add `_bucket`.
  const unknown = [...read].filter(
    (name) => !name.includes(':') && !known.has(name.replace(/_(bucket|sum|count)$/, '')),
  );
  assert.ok(read.has(Metrics.httpRequests.name));
  assert.deepEqual(unknown, []);
});
