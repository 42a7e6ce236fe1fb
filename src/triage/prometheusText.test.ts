import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readScrape } from './MetricsEvidence.ts';
import { parsePrometheusText } from './prometheusText.ts';

const SCRAPE = `# HELP db_pool_connections Database pool connections
# TYPE db_pool_connections gauge
db_pool_connections{state="active",service="checkout"} 10
db_pool_connections{state="idle",service="checkout"} 0
db_pool_connections{state="waiting",service="checkout"} 37
db_pool_max_connections{service="checkout"} 10
db_pool_rejected_total{service="checkout"} 12
circuit_breaker_state{dependency="paymentGateway",service="checkout"} 2
circuit_breaker_state{dependency="inventoryService",service="checkout"} 0
http_requests_shed_total{reason="in_flight",service="checkout"} 5
process_open_fds{service="checkout"} 950
process_max_fds{service="checkout"} 1024
host_memory_available_bytes{service="checkout"} 4e9
host_memory_total_bytes{service="checkout"} 8e9
label_with_escapes{note="a \\"quoted\\" value"} +Inf
`;

test('a scrape: samples with their labels, comments passed over', () => {
  const samples = parsePrometheusText(SCRAPE);
  assert.equal(samples.length, 13);
  assert.deepEqual(samples[0], {
    name: 'db_pool_connections',
    labels: { state: 'active', service: 'checkout' },
    value: 10,
  });
  assert.equal(samples.at(-1)?.labels.note, 'a "quoted" value');
  assert.equal(samples.at(-1)?.value, Number.POSITIVE_INFINITY);
});

test('resources as current against max; findings for what is exhausted, open or shed', () => {
  const { resources, findings } = readScrape('checkout.prom', parsePrometheusText(SCRAPE));
  const pool = resources.find((r) => r.name.startsWith('database pool'));
  assert.deepEqual(
    [pool?.current, pool?.max, pool?.exhausted, pool?.name],
    [10, 10, true, 'database pool (37 waiting)'],
  );
  const fds = resources.find((r) => r.name === 'file descriptors');
  assert.deepEqual([fds?.current, fds?.max, fds?.exhausted], [950, 1024, true]);
  assert.equal(resources.find((r) => r.name === 'memory')?.exhausted, false);
  const kinds = findings.map((f) => `${f.kind}:${f.subject}`).sort();
  assert.deepEqual(kinds, [
    'breaker_open:paymentGateway',
    'file_descriptors:file descriptors',
    'overload:checkout',
    'pool_saturated:database',
    'pool_saturated:database',
  ]);
});

test('+Inf, -Inf, NaN, huge and negative values parse, and are passed over or ignored, never crash', () => {
  const scrape = `db_pool_connections{state="active"} +Inf
db_pool_max_connections NaN
process_open_fds 1e400
process_max_fds -Inf
host_memory_total_bytes 1e300
host_memory_available_bytes 5
db_pool_rejected_total -3
http_requests_shed_total{reason="x"} -7
dependency_calls_total{dependency="paymentGateway",outcome="failure"} -2
nodejs_eventloop_lag_p99_seconds 0x10
disk_size_bytes{path="/"} 0
disk_free_bytes{path="/"} NaN
circuit_breaker_state{dependency="__proto__",__proto__="x"} 2
`;
  const samples = parsePrometheusText(scrape);
  assert.equal(samples.length, 12, 'all but 0x10, which is no number a scrape writes');
  assert.ok(
    samples.some((s) => Number.isNaN(s.value)) && samples.some((s) => s.value === Number.NEGATIVE_INFINITY),
  );
  const { resources, findings } = readScrape('odd.prom', samples);
  for (const resource of resources) {
    assert.ok(Number.isFinite(resource.current), resource.name);
    if (resource.max !== undefined) assert.ok(Number.isFinite(resource.max), resource.name);
  }
  for (const finding of findings)
    assert.ok(Number.isFinite(finding.value) && finding.value >= 0, finding.summary);
  assert.deepEqual(
    findings.map((f) => f.kind),
    ['breaker_open'],
    'negative counters count nothing; the breaker of a dependency named __proto__ is still a breaker',
  );
  assert.equal(
    Object.getPrototypeOf(samples.at(-1)?.labels),
    Object.prototype,
    'a label cannot set a prototype',
  );
});
