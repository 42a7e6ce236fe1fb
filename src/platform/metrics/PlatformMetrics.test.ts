import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { parsePrometheusText } from '../../triage/prometheusText.ts';
import { metricsSettings } from '../config/settings.ts';
import { DependencyUnavailableError } from '../errors/DependencyUnavailableError.ts';
import { callOutcome, diskPathsFrom, PlatformMetrics } from './PlatformMetrics.ts';

test('a dependency that could not serve the call is its failure; any answer is a success of the call', () => {
  const unavailable = (reason: ConstructorParameters<typeof DependencyUnavailableError>[1]) =>
    callOutcome(new DependencyUnavailableError('db', reason, { retryAfterSeconds: 1 }));
  assert.equal(unavailable('circuit_open'), 'rejected_breaker');
  assert.equal(unavailable('saturated'), 'rejected_bulkhead');
  assert.equal(unavailable('timeout'), 'timeout');
  assert.equal(unavailable('unreachable'), 'failure');
  assert.equal(unavailable('server_error'), 'failure');
  assert.equal(callOutcome(Object.assign(new Error('duplicate key'), { code: '23505' })), 'success');
});

test('breakers, pool, memory and disks are read when scraped; every sample carries the service', async () => {
  const metrics = new PlatformMetrics('checkout');
  const breaker = { name: 'paymentGateway', breakerState: 'CLOSED' as 'CLOSED' | 'OPEN' };
  metrics.watchBreaker(breaker);
  metrics.watchPool({ stats: () => ({ max: 10, active: 7, idle: 3, waiting: 2 }) });
  metrics.watchDisk('data', tmpdir());
  assert.equal(await metrics.valueOf('circuit_breaker_state', { dependency: 'paymentGateway' }), 0);
  breaker.breakerState = 'OPEN';
  assert.equal(await metrics.valueOf('circuit_breaker_state', { dependency: 'paymentGateway' }), 2);
  assert.equal(await metrics.valueOf('db_pool_connections', { state: 'active' }), 7);
  assert.equal(await metrics.valueOf('db_pool_connections', { state: 'waiting' }), 2);
  assert.equal(await metrics.valueOf('db_pool_max_connections'), 10);
  const free = await metrics.valueOf('disk_free_bytes', { path: 'data' });
  const size = await metrics.valueOf('disk_size_bytes', { path: 'data' });
  assert.ok(free !== undefined && size !== undefined && free > 0 && free <= size);
  const available = await metrics.valueOf('host_memory_available_bytes');
  const total = await metrics.valueOf('host_memory_total_bytes');
  assert.ok(available !== undefined && total !== undefined && available > 0 && available <= total);
  const text = await metrics.scrape();
  assert.match(text, /^circuit_breaker_state\{dependency="paymentGateway",service="checkout"\} 2$/m);
  assert.match(text, /^process_resident_memory_bytes\{service="checkout"\} \d+/m, "prom-client's defaults");
});

test('requests are counted by route pattern and status, timed by status class', async () => {
  const metrics = new PlatformMetrics('inventory');
  metrics.recordRequest('POST', '/reservations/:id/commit', 200, 0.012);
  metrics.recordRequest('POST', '/reservations/:id/commit', 503, 1.2);
  assert.equal(
    await metrics.valueOf('http_requests_total', { route: '/reservations/:id/commit', status_code: 503 }),
    1,
  );
  const text = await metrics.scrape();
  assert.match(text, /http_request_duration_seconds_bucket\{le="0.025",.*status_class="2xx".*\} 1/);
  assert.match(text, /http_request_duration_seconds_bucket\{le="1",.*status_class="5xx".*\} 0/);
});

test('requests are also timed under the semantic conventions: their names, labels and advised buckets', async () => {
  const metrics = new PlatformMetrics('inventory');
  metrics.recordRequest('POST', '/reservations/:id/commit', 201, 0.06, 'https');
  metrics.recordRequest('POST', '/reservations/:id/commit', 503, 1.2);
  metrics.recordRequest('PROPFIND', undefined, 404, 0.001);
  const samples = parsePrometheusText(await metrics.scrape()).filter((s) =>
    s.name.startsWith('http_server_request_duration_seconds'),
  );
  const counts = samples
    .filter((s) => s.name === 'http_server_request_duration_seconds_count')
    .map((s) => s.labels);
  assert.deepEqual(counts, [
    {
      http_request_method: 'POST',
      http_response_status_code: '201',
      url_scheme: 'https',
      http_route: '/reservations/:id/commit',
      service: 'inventory',
    },
    {
      http_request_method: 'POST',
      http_response_status_code: '503',
      url_scheme: 'http',
      http_route: '/reservations/:id/commit',
      error_type: '503',
      service: 'inventory',
    },
    // No route matched: no http_route; a method outside the known ones is _OTHER (a client adds no series).
    {
      http_request_method: '_OTHER',
      http_response_status_code: '404',
      url_scheme: 'http',
      service: 'inventory',
    },
  ]);
  const methods = parsePrometheusText(await metrics.scrape())
    .filter((s) => s.name === 'http_requests_total')
    .map((s) => s.labels.method);
  assert.deepEqual(methods, ['POST', 'POST', '_OTHER'], 'the project names fold unknown methods too');
  const bounds = samples
    .filter((s) => s.name.endsWith('_bucket') && s.labels.http_response_status_code === '201')
    .map((s) => s.labels.le);
  assert.deepEqual(bounds, [
    ...[
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.075',
      '0.1',
      '0.25',
      '0.5',
      '0.75',
      '1',
      '2.5',
      '5',
      '7.5',
      '10',
    ],
    '+Inf',
  ]);
  const below = (le: string) =>
    samples.find(
      (s) => s.name.endsWith('_bucket') && s.labels.http_response_status_code === '201' && s.labels.le === le,
    )?.value;
  assert.deepEqual([below('0.05'), below('0.075')], [0, 1], 'the 60 ms request falls in the 75 ms bucket');
  // The project's own histogram is untouched: its route `unmatched`, its status class.
  assert.match(
    await metrics.scrape(),
    /^http_request_duration_seconds_count\{[^}]*route="unmatched"[^}]*status_class="4xx"[^}]*\} 1$/m,
  );
});

test('requests sent to a dependency are timed under the semantic conventions', async () => {
  const metrics = new PlatformMetrics('checkout');
  const server = { serverAddress: 'payments.internal', serverPort: 443 };
  metrics.recordClientRequest({ method: 'POST', ...server, statusCode: 200 }, 0.02);
  metrics.recordClientRequest({ method: 'POST', ...server, statusCode: 402, errorType: '402' }, 0.03);
  metrics.recordClientRequest({ method: 'POST', ...server, errorType: 'timeout' }, 2);
  const counts = parsePrometheusText(await metrics.scrape())
    .filter((s) => s.name === 'http_client_request_duration_seconds_count')
    .map((s) => [s.labels, s.value]);
  const labels = { http_request_method: 'POST', server_address: 'payments.internal', server_port: '443' };
  assert.deepEqual(counts, [
    [{ ...labels, http_response_status_code: '200', service: 'checkout' }, 1],
    [{ ...labels, http_response_status_code: '402', error_type: '402', service: 'checkout' }, 1],
    [{ ...labels, error_type: 'timeout', service: 'checkout' }, 1],
  ]);
});

test('the exposition passes `promtool check metrics` [promtool]', async () => {
  const metrics = new PlatformMetrics('payment-sandbox');
  metrics.recordRequest('GET', '/health/ready', 200, 0.001);
  metrics.recordClientRequest(
    { method: 'GET', serverAddress: '127.0.0.1', serverPort: 80, statusCode: 200 },
    0.002,
  );
  metrics.recordCall('database', 'success', 0.002);
  metrics.recordPoolRejection();
  const check = spawnSync('promtool', ['check', 'metrics'], {
    input: await metrics.scrape(),
    encoding: 'utf8',
  });
  assert.equal(check.error, undefined, 'promtool (Debian package prometheus) must be installed');
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test('disk paths are named, so that no path reaches a response', () => {
  assert.deepEqual(diskPathsFrom('data=/var/lib/steadfast, logs=/var/log/steadfast'), [
    ['data', '/var/lib/steadfast'],
    ['logs', '/var/log/steadfast'],
  ]);
  assert.deepEqual(diskPathsFrom('/srv/orders'), [['orders', '/srv/orders']]);
  assert.deepEqual(
    diskPathsFrom((metricsSettings.METRICS_DISK_PATHS as unknown as { default: string }).default),
    [['data', '.']],
    'the default',
  );
});

test('METRICS_ENABLED=false: requests and calls are not recorded, /metrics still answers', async () => {
  const metrics = new PlatformMetrics('checkout', { recording: false });
  metrics.recordRequest('GET', '/x', 200, 0.01);
  metrics.recordCall('database', 'success', 0.001);
  metrics.recordClientRequest({ method: 'GET', serverAddress: 'x', serverPort: 80, statusCode: 200 }, 0.001);
  assert.equal(await metrics.valueOf('http_requests_total'), undefined);
  assert.equal(await metrics.valueOf('http_server_request_duration_seconds'), undefined);
  assert.equal(await metrics.valueOf('http_client_request_duration_seconds'), undefined);
  assert.equal(await metrics.valueOf('dependency_calls_total'), undefined);
  assert.doesNotMatch(await metrics.scrape(), /process_cpu/);
});

test('scrapes asked for while one is made share it; one asked for after it ended is made anew', async () => {
  const metrics = new PlatformMetrics('test');
  let made = 0;
  const metricsOf = metrics.registry.metrics.bind(metrics.registry);
  metrics.registry.metrics = async () => {
    made++;
    return metricsOf();
  };
  const flood = await Promise.all(Array.from({ length: 50 }, () => metrics.scrape()));
  assert.equal(made, 1, 'a flood of scrapes costs one exposition at a time');
  assert.equal(new Set(flood).size, 1);
  metrics.recordRequest('GET', '/x', 200, 0.01);
  const after = await metrics.scrape();
  assert.equal(made, 2);
  assert.match(
    after,
    /http_requests_total\{[^}]*route="\/x"[^}]*\} 1/,
    'nothing served is older than the request',
  );
});

test('known label sets start at zero: every outcome of a dependency it was told of, every reason to shed', async () => {
  const metrics = new PlatformMetrics('checkout');
  metrics.knowDependency('paymentGateway');
  const text = await metrics.scrape();
  for (const outcome of ['success', 'failure', 'timeout', 'rejected_breaker', 'rejected_bulkhead']) {
    assert.match(
      text,
      new RegExp(
        `^dependency_calls_total\\{dependency="paymentGateway",outcome="${outcome}",service="checkout"\\} 0$`,
        'm',
      ),
    );
  }
  for (const reason of ['in_flight', 'event_loop_delay', 'event_loop_utilization', 'heap_used'])
    assert.match(
      text,
      new RegExp(`^http_requests_shed_total\\{reason="${reason}",service="checkout"\\} 0$`, 'm'),
    );
  // Its call-time histogram too: a rate of its count, or a quantile, has an earlier sample as well.
  assert.match(
    text,
    /^dependency_call_duration_seconds_count\{service="checkout",dependency="paymentGateway"\} 0$/m,
  );
  assert.match(
    text,
    /^dependency_call_duration_seconds_bucket\{le="\+Inf",service="checkout",dependency="paymentGateway"\} 0$/m,
  );
  metrics.recordCall('paymentGateway', 'timeout', 0.1);
  assert.equal(await metrics.valueOf('dependency_calls_total', { outcome: 'timeout' }), 1);
});
