import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { parse, stringify } from 'yaml';
import { RECOVERY_OUTCOMES } from '../src/checkout/flow/CheckoutService.ts';
import { CHECKOUT_OUTCOMES } from '../src/checkout/flow/checkoutAnswers.ts';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_OUTCOMES } from '../src/checkout/webhooks/webhookEvents.ts';
import { Metrics } from '../src/contract/metrics.ts';
import { Dependencies, Services } from '../src/contract/services.ts';
import {
  ALERTMANAGER_CONFIG,
  alertmanagerArgs,
  prometheusArgs,
  prometheusConfig,
  RULES_FILE,
} from '../src/stack/monitoring.ts';
import { parsePrometheusText, type Sample } from '../src/triage/prometheusText.ts';
import { freePort } from './support/postgres.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// "See it fail": the services' metrics as Prometheus reads them, and an alert that travels for real
// from a fault through Prometheus and Alertmanager to a receiver, with its symptom held back.

/** The shipped rules with every `for:` ten times shorter, so that the test takes seconds, not minutes. */
async function fasterRules(dir: string): Promise<string> {
  const rules = parse(await readFile(RULES_FILE, 'utf8')) as { groups: { rules: { for?: string }[] }[] };
  for (const rule of rules.groups.flatMap((group) => group.rules)) {
    if (!rule.for) continue;
    const [, amount, unit] = /^(\d+)([smh])$/.exec(rule.for) ?? [];
    const seconds = Number(amount) * { s: 1, m: 60, h: 3600 }[unit as 's' | 'm' | 'h'];
    rule.for = `${Math.max(1, Math.round(seconds / 10))}s`;
  }
  const path = join(dir, 'rules.yml');
  await writeFile(path, stringify(rules));
  return path;
}

/** The shipped Alertmanager configuration, its receivers pointed at this test, its waits at a second. */
async function alertmanagerConfigFor(dir: string, receiverUrl: string): Promise<string> {
  const config = parse(await readFile(ALERTMANAGER_CONFIG, 'utf8')) as {
    route: Record<string, unknown> & { routes: Record<string, unknown>[] };
    receivers: { name: string; webhook_configs: { url: string }[] }[];
  };
  for (const route of [config.route, ...config.route.routes]) {
    route.group_wait = '1s';
    route.group_interval = '1s';
  }
  for (const receiver of config.receivers) {
    for (const webhook of receiver.webhook_configs) webhook.url = `${receiverUrl}/${receiver.name}`;
  }
  const path = join(dir, 'alertmanager.yml');
  await writeFile(path, stringify(config));
  return path;
}

async function startServer(command: string, args: string[], readyUrl: string): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const spawned = await Promise.race([
    once(child, 'spawn').then(() => true),
    once(child, 'error').then(() => false),
  ]);
  assert.ok(spawned, `${command} must be installed (Debian packages prometheus, prometheus-alertmanager)`);
  await eventually(async () => (await fetch(readyUrl)).ok, 30_000, `${command} ready: ${stderr}`);
  return child;
}

/** Asserts a line of a scrape, without printing the whole scrape when it is missing. */
function assertLine(text: string, line: RegExp): void {
  assert.ok(line.test(text), `the scrape has a line matching ${line}`);
}

interface Notification {
  receiver: string;
  status: string;
  alerts: { status: string; labels: Record<string, string> }[];
}

describe('monitoring: metrics, alert rules, Alertmanager', () => {
  let stack: TestStack;
  let prometheus: ChildProcess;
  let alertmanager: ChildProcess;
  let receiver: Server;
  let prometheusUrl: string;
  let alertmanagerUrl: string;
  const notifications: Notification[] = [];
  let users = 0;

  before(async () => {
    stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000' });
    const dir = join(stack.dataDir, 'monitoring-test');
    await mkdir(dir, { recursive: true });

    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        notifications.push(JSON.parse(body) as Notification);
        response.end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const address = receiver.address();
    const receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const alertmanagerPort = await freePort();
    alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;
    alertmanager = await startServer(
      'prometheus-alertmanager',
      alertmanagerArgs(await alertmanagerConfigFor(dir, receiverUrl), join(dir, 'am'), alertmanagerPort),
      `${alertmanagerUrl}/-/ready`,
    );

    const prometheusPort = await freePort();
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(
      configFile,
      prometheusConfig({
        targets: [
          { service: 'checkout', url: stack.info.checkoutUrl },
          { service: 'inventory', url: stack.info.inventoryUrl },
          { service: 'payment-sandbox', url: stack.info.paymentUrl },
        ],
        ruleFiles: [await fasterRules(dir)],
        alertmanagerUrl,
        interval: '1s',
      }),
    );
    prometheus = await startServer(
      'prometheus',
      prometheusArgs(configFile, join(dir, 'tsdb'), prometheusPort),
      `${prometheusUrl}/-/ready`,
    );
  });

  after(async () => {
    for (const child of [prometheus, alertmanager]) {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    }
    receiver?.close();
    await stack?.stop();
  });

  const checkoutOnce = async () => {
    const { cartId, token } = await stack.cart(`usr_monitoring_${users++}`);
    return stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'pm_card_visa' },
    });
  };

  // First: before any request but the stack's own (readiness, the recovery worker's scans, scrapes).
  test('a fresh stack exports every known label set at 0: a rate over the first failures has a sample before them', async () => {
    const services = [
      { service: Services.checkout, url: stack.info.checkoutUrl, dependencies: Object.values(Dependencies) },
      { service: Services.inventory, url: stack.info.inventoryUrl, dependencies: [Dependencies.database] },
      { service: Services.payment, url: stack.info.paymentUrl, dependencies: [Dependencies.database] },
    ];
    const wrong: string[] = [];
    for (const { service, url, dependencies } of services) {
      const scrape = await stack.api('GET', '/metrics', { baseUrl: url, token: null });
      assert.equal(scrape.status, 200);
      const samples = parsePrometheusText(scrape.text);
      const sampleValue = (name: string, labels: Record<string, string>) =>
        samples.find(
          (s: Sample) =>
            s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
        )?.value;
      /** `present`: whatever its value, the stack's own calls may have counted. */
      const expect = (
        name: string,
        labels: Record<string, string> = {},
        expected: number | 'present' = 0,
      ) => {
        const value = sampleValue(name, labels);
        if (value === undefined || (expected !== 'present' && value !== expected))
          wrong.push(`${service} ${name}${JSON.stringify(labels)} is ${value}, not ${expected}`);
      };
      for (const dependency of dependencies) {
        expect(Metrics.dependencyCalls.name, { dependency, outcome: 'success' }, 'present');
        for (const outcome of ['failure', 'timeout', 'rejected_breaker', 'rejected_bulkhead'])
          expect(Metrics.dependencyCalls.name, { dependency, outcome });
        expect(`${Metrics.dependencyCallDuration.name}_count`, { dependency }, 'present');
      }
      for (const reason of ['in_flight', 'event_loop_delay', 'event_loop_utilization', 'heap_used'])
        expect(Metrics.requestsShed.name, { reason });
      expect(Metrics.poolRejected.name);
      if (service !== Services.checkout) continue;
      for (const outcome of CHECKOUT_OUTCOMES) expect(Metrics.checkoutOutcomes.name, { outcome });
      for (const result of RECOVERY_OUTCOMES) expect(Metrics.checkoutRecoveries.name, { result });
      for (const type of WEBHOOK_EVENT_TYPES)
        for (const outcome of WEBHOOK_OUTCOMES) expect(Metrics.webhookEvents.name, { type, outcome });
      expect(Metrics.lateChargesRefunded.name);
      expect(Metrics.attemptsUnsettled.name);
    }
    assert.deepEqual(wrong, []);
    assert.ok(CHECKOUT_OUTCOMES.includes('completed') && CHECKOUT_OUTCOMES.includes('PAYMENT_DECLINED'));
  });

  test('each service serves /metrics that promtool accepts, with the names rules rely on', async () => {
    assert.equal((await checkoutOnce()).status, 201);
    for (const url of [stack.info.checkoutUrl, stack.info.inventoryUrl, stack.info.paymentUrl]) {
      const scrape = await stack.api('GET', '/metrics', { baseUrl: url, token: null });
      assert.equal(scrape.status, 200);
      const { text } = scrape;
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(check.status, 0, `${url}: ${check.stdout}${check.stderr}`);
      for (const name of [
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'http_server_request_duration_seconds_bucket',
        'db_pool_connections',
        'db_pool_max_connections',
        'disk_free_bytes',
        'process_open_fds',
        'nodejs_eventloop_lag_seconds',
      ]) {
        assert.ok(new RegExp(`^${name}\\{`, 'm').test(text), `${url} exposes ${name}`);
      }
    }
    const { text } = await stack.api('GET', '/metrics', { token: null });
    assertLine(
      text,
      /^http_requests_total\{method="POST",route="\/api\/checkout\/complete",status_code="201",service="checkout"\} [1-9]/m,
    );
    assertLine(text, /^checkout_outcomes_total\{outcome="completed",service="checkout"\} [1-9]/m);
    assertLine(
      text,
      /^dependency_calls_total\{dependency="paymentGateway",outcome="success",service="checkout"\} [1-9]/m,
    );
    assertLine(
      text,
      /^dependency_calls_total\{dependency="database",outcome="success",service="checkout"\} [1-9]/m,
    );
    assertLine(text, /^circuit_breaker_state\{dependency="inventoryService",service="checkout"\} 0$/m);
    assertLine(text, /^checkout_attempts_unsettled\{service="checkout"\} 0$/m);
    // The checkout's calls to its HTTP dependencies, under the semantic conventions: the payment sandbox's
    // address and port, the status it answered.
    const payment = new URL(stack.info.paymentUrl);
    assertLine(
      text,
      new RegExp(
        `^http_client_request_duration_seconds_count\\{(?=[^}]*http_request_method="POST")(?=[^}]*server_address="${payment.hostname}")(?=[^}]*server_port="${payment.port}")(?=[^}]*http_response_status_code="200")[^}]*\\} [1-9]`,
        'm',
      ),
    );
    assertLine(
      text,
      /^http_server_request_duration_seconds_count\{(?=[^}]*http_route="\/api\/checkout\/complete")(?=[^}]*http_response_status_code="201")[^}]*\} [1-9]/m,
    );
    assertLine(text, /^disk_free_bytes\{path="data",service="checkout"\} \d+/m);
    assertLine(text, /^disk_size_bytes\{path="logs",service="checkout"\} \d+/m);
  });

  test('one checkout can be followed across the three logs by its trace_id', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const { cartId, token } = await stack.cart(`usr_trace_${users++}`);
    const response = await stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'pm_card_visa' },
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    assert.equal(response.status, 201);
    const endpoints = async (service: string) =>
      (await stack.log(service)).filter((line) => line.trace_id === traceId).map((line) => line.endpoint);
    // Each service's lines reach its file through the supervisor's pipe, each in its own time: wait for all.
    const expected: [string, string][] = [
      ['payment', 'POST /v1/payment_intents'],
      ['checkout', 'POST /api/checkout/complete'],
      // The reservation is in the trace; its commit is not: it leaves after the answer, batched with others.
      ['inventory', 'POST /reservations'],
    ];
    for (const [service, endpoint] of expected) {
      await eventually(
        async () => (await endpoints(service)).includes(endpoint),
        5_000,
        `${endpoint} in the ${service} log`,
      );
    }
  });

  test('payment gateway fails: the breaker page reaches the receiver, the checkout 5xx symptom is held back', async () => {
    let load = true;
    const statuses: number[] = [];
    const driver = (async () => {
      while (load) {
        statuses.push((await checkoutOnce()).status);
        await sleep(50);
      }
    })();
    try {
      await eventually(
        async () => {
          const up = (await (
            await fetch(`${prometheusUrl}/api/v1/query?query=sum(up{job="steadfast"})`)
          ).json()) as { data: { result: { value: [number, string] }[] } };
          return Number(up.data.result[0]?.value[1]) === 3 && statuses.filter((s) => s === 201).length >= 3;
        },
        20_000,
        'three targets scraped and checkouts succeeding',
      );
      await stack.fault('payment', { mode: 'error' });

      const delivered = (alertname: string) =>
        notifications.filter((n) =>
          n.alerts.some((a) => a.labels.alertname === alertname && a.status === 'firing'),
        );
      await eventually(
        async () => delivered('CircuitBreakerOpen').length > 0,
        30_000,
        'the breaker page delivered',
      );
      const page = delivered('CircuitBreakerOpen')[0];
      assert.equal(page?.receiver, 'pager');
      assert.equal(page?.alerts[0]?.labels.dependency, 'paymentGateway');
      assert.equal(page?.alerts[0]?.labels.severity, 'page');

      // The symptom fires in Prometheus, reaches Alertmanager, and is held back there by its cause.
      await eventually(
        async () => {
          const alerts = (await (
            await fetch(`${alertmanagerUrl}/api/v2/alerts?filter=alertname%3D%22CheckoutErrorRateHigh%22`)
          ).json()) as { status: { state: string; inhibitedBy: string[] } }[];
          return alerts.some((a) => a.status.state === 'suppressed' && a.status.inhibitedBy.length > 0);
        },
        30_000,
        'CheckoutErrorRateHigh firing and inhibited',
      );
      await sleep(3000);
      assert.deepEqual(delivered('CheckoutErrorRateHigh'), [], 'the inhibited symptom was not delivered');
      assert.ok(statuses.includes(503), 'checkouts answered 503 while the gateway failed');
      assert.ok(!statuses.includes(500), 'and never 500');
    } finally {
      load = false;
      await driver;
      await stack.fault('payment', { mode: 'none' });
    }
  });
});

describe('steadfast start --monitoring; rotated stack logs', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startTestStack(
      {
        PROMETHEUS_PORT: '0',
        ALERTMANAGER_PORT: '0',
        CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
        LOG_FILE_MAX_SIZE: '16k',
        LOG_FILE_RETENTION: '2',
      },
      ['--monitoring'],
    );
  });
  after(() => stack?.stop());

  test('Prometheus scrapes the three services with the shipped rules; Alertmanager is its receiver', async () => {
    const { prometheusUrl, alertmanagerUrl, pids } = stack.info;
    assert.ok(prometheusUrl && alertmanagerUrl, 'stack.json names both');
    assert.ok(pids.prometheus && pids.alertmanager, 'and their pids');
    assert.equal((await fetch(`${alertmanagerUrl}/-/ready`)).status, 200);
    const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as {
      data: { groups: { name: string }[] };
    };
    assert.deepEqual(rules.data.groups.map((g) => g.name).sort(), [
      'steadfast-alerts',
      'steadfast-recording',
    ]);
    await eventually(
      async () => {
        const targets = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as {
          data: { activeTargets: { health: string; labels: { service: string } }[] };
        };
        const up = targets.data.activeTargets.filter((t) => t.health === 'up').map((t) => t.labels.service);
        return up.sort().join() === 'checkout,inventory,payment-sandbox';
      },
      30_000,
      'three targets up',
    );
    const alertmanagers = (await (await fetch(`${prometheusUrl}/api/v1/alertmanagers`)).json()) as {
      data: { activeAlertmanagers: { url: string }[] };
    };
    assert.match(
      alertmanagers.data.activeAlertmanagers[0]?.url ?? '',
      new RegExp(new URL(alertmanagerUrl).host),
    );
  });

  test('each service log under <data dir>/logs rotates by size, compressed, keeping the retention count', async () => {
    const token = await stack.token('usr_rotation');
    for (let i = 0; i < 150; i++)
      await stack.api('GET', '/api/carts/00000000-0000-0000-0000-000000000000', { token });
    const logs = join(stack.dataDir, 'logs');
    await eventually(
      async () => (await readdir(logs)).includes('checkout.2.log.gz'),
      10_000,
      'checkout.log rotated twice',
    );
    const files = await readdir(logs);
    assert.ok(!files.includes('checkout.3.log.gz'), `at most two old files: ${files}`);
    const old = gunzipSync(await readFile(join(logs, 'checkout.1.log.gz'))).toString('utf8');
    const lines = old.trim().split('\n');
    assert.ok(lines.length > 10);
    assert.equal(JSON.parse(lines.at(-1) ?? '').msg, 'request_completed', 'whole JSON lines');
    assert.ok((await stat(join(logs, 'checkout.log'))).size < 16 * 1024 + 4096);
  });
});
