import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CheckoutSettings } from '../checkout/config.ts';
import { loadConfig } from '../platform/config/loadConfig.ts';
import {
  type CheckName,
  checkBalancer,
  checkConnections,
  checkHealthCheck,
  checkKeepAlive,
  checkTimeouts,
  type Deployment,
  runChecks,
} from './checks.ts';
import { SHIPPED_HAPROXY_CONFIG } from './gather.ts';
import { parseHaproxyConfig } from './haproxyConfig.ts';

const SHIPPED = readFileSync(SHIPPED_HAPROXY_CONFIG, 'utf8');

/** The shipped HAProxy file and the service's defaults, with what a test changes in either. */
function deployment(
  options: {
    env?: Record<string, string>;
    haproxy?: (text: string) => string;
    parts?: Partial<Deployment>;
  } = {},
): Deployment {
  const env = { DATABASE_URL: 'postgres://db/checkout', ...options.env };
  const loaded = loadConfig(CheckoutSettings, env);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  return {
    haproxy: {
      file: 'ops/haproxy/haproxy.cfg',
      config: parseHaproxyConfig((options.haproxy ?? ((t) => t))(SHIPPED), env),
    },
    settings: loaded.config,
    settingSource: (name) => ({ file: 'settings.ts', fromEnvironment: name in env }),
    instances: { count: 3, source: 'test' },
    postgres: { maxConnections: 100, superuserReserved: 3, reserved: 0 },
    sandboxPools: undefined,
    balancer: {
      servers: { 'checkout-1': 'UP', 'checkout-2': 'UP', 'checkout-3': 'UP' },
      expected: ['checkout-1', 'checkout-2', 'checkout-3'],
    },
    ...options.parts,
  };
}

const codes = (outcome: { findings: { code: string }[] }) => outcome.findings.map((f) => f.code);

test('the shipped configuration with the default settings passes every check', () => {
  const outcomes = runChecks(deployment());
  assert.deepEqual(
    outcomes.map((o) => [o.check, o.state]),
    (['timeouts', 'keep_alive', 'connections', 'health_check', 'balancer'] as CheckName[]).map((c) => [
      c,
      'passed',
    ]),
    JSON.stringify(outcomes, null, 2),
  );
});

test('timeouts: a balancer that gives up before a checkout can end, or a client side shorter than the server side', () => {
  // 1 + 3 + 2 × 7 = 18 s, past HAProxy's 15 s.
  const slowStatements = checkTimeouts(deployment({ env: { DB_STATEMENT_TIMEOUT_MS: '7000' } }));
  assert.deepEqual(codes(slowStatements), ['timeout_server_below_budget']);
  const [finding] = slowStatements.findings;
  assert.equal(finding?.setting, 'timeout server');
  assert.match(finding?.file ?? '', /^ops\/haproxy\/haproxy\.cfg:\d+$/);
  assert.match(finding?.summary ?? '', /18000 ms/);

  const shortClient = checkTimeouts(
    deployment({ haproxy: (t) => t.replace('timeout client 30s', 'timeout client 12s') }),
  );
  assert.deepEqual(codes(shortClient), ['timeout_client_below_budget', 'timeout_client_below_server']);

  const slowArrival = checkTimeouts(deployment({ env: { REQUEST_TIMEOUT_MS: '20000' } }));
  assert.deepEqual(codes(slowArrival), ['timeout_server_below_request_timeout']);

  const none = checkTimeouts(deployment({ haproxy: (t) => t.replace(/^\s*timeout server .*$/m, '') }));
  assert.deepEqual(codes(none), ['timeout_server_missing']);
});

test('keep-alive: instances that close idle connections before HAProxy does (the 502 race)', () => {
  const outcome = checkKeepAlive(deployment({ env: { KEEP_ALIVE_TIMEOUT_MS: '5000' } }));
  assert.deepEqual(codes(outcome), ['keep_alive_not_above_balancer']);
  assert.equal(outcome.findings[0]?.setting, 'KEEP_ALIVE_TIMEOUT_MS');
  // Without `timeout http-keep-alive` HAProxy keeps an idle connection `timeout http-request`.
  const fallback = checkKeepAlive(
    deployment({
      env: { KEEP_ALIVE_TIMEOUT_MS: '10000' },
      haproxy: (t) =>
        t
          .replace(/^\s*timeout http-keep-alive .*$/m, '')
          .replace('timeout http-request 10s', 'timeout http-request 11s'),
    }),
  );
  assert.deepEqual(codes(fallback), ['keep_alive_not_above_balancer']);
  assert.match(fallback.findings[0]?.summary ?? '', /timeout http-request/);
});

test('connections: pools, health probes and sandboxes past max_connections less the reserved ones', () => {
  // 9 × (10 + 1) = 99 > 100 - 3.
  const outcome = checkConnections(deployment({ parts: { instances: { count: 9, source: 'test' } } }));
  assert.deepEqual(codes(outcome), ['connections_over_limit']);
  assert.match(outcome.findings[0]?.fix ?? '', /DB_POOL_MAX to 9 or fewer/);
  // 8 × 11 = 88 fits; with the two sandboxes' pools on the same server (2 × 11) it does not.
  assert.equal(
    checkConnections(deployment({ parts: { instances: { count: 8, source: 'test' } } })).state,
    'passed',
  );
  const shared = checkConnections(
    deployment({
      parts: { instances: { count: 8, source: 'test' }, sandboxPools: { count: 2, poolMax: 10 } },
    }),
  );
  assert.deepEqual(codes(shared), ['connections_over_limit']);
  // PostgreSQL 16's reserved_connections count too.
  const reserved = checkConnections(
    deployment({ parts: { postgres: { maxConnections: 40, superuserReserved: 3, reserved: 5 } } }),
  );
  assert.deepEqual(codes(reserved), ['connections_over_limit']);
  assert.equal(checkConnections(deployment({ parts: { postgres: undefined } })).state, 'skipped');
});

test('health check: a drain shorter than HAProxy takes to notice it, a shutdown cut short, a check timeout below readiness', () => {
  const slowChecks = checkHealthCheck(
    deployment({ env: { HAPROXY_CHECK_INTER: '5s', HAPROXY_CHECK_FALL: '3' } }),
  );
  assert.deepEqual(codes(slowChecks), ['drain_shorter_than_detection']);
  assert.match(slowChecks.findings[0]?.fix ?? '', /at least 15000 ms/);
  // fastinter shortens the checks after the first failure: 5 s + 2 × 500 ms.
  const fast = checkHealthCheck(
    deployment({
      env: { HAPROXY_CHECK_INTER: '5s', HAPROXY_CHECK_FALL: '3', SHUTDOWN_DRAIN_DELAY_MS: '6000' },
      haproxy: (t) => t.replace('rise 2', 'rise 2 fastinter 500ms'),
    }),
  );
  assert.deepEqual(codes(fast), []);

  const shortShutdown = checkHealthCheck(deployment({ env: { SHUTDOWN_TIMEOUT_MS: '10000' } }));
  assert.deepEqual(codes(shortShutdown), ['shutdown_timeout_too_short']);

  const slowReadiness = checkHealthCheck(deployment({ env: { HAPROXY_CHECK_INTER: '300ms' } }));
  assert.deepEqual(codes(slowReadiness), ['health_timeout_over_check_timeout']);

  const unchecked = checkHealthCheck(
    // `port` alone names where checks would go; only `check` turns them on.
    deployment({
      haproxy: (t) => t.replace('default-server check', 'default-server').replaceAll(' check port', ' port'),
    }),
  );
  assert.deepEqual(codes(unchecked), ['health_check_off', 'health_check_off', 'health_check_off']);
});

test('balancer: an instance HAProxy does not have, or has in any state but UP', () => {
  const outcome = checkBalancer(
    deployment({
      parts: {
        balancer: {
          servers: {
            'checkout-1': 'UP',
            'checkout-2': 'MAINT',
            'checkout-3': 'DOWN',
            'checkout-9': 'UP 1/2',
          },
          expected: ['checkout-1', 'checkout-2', 'checkout-3', 'checkout-4'],
        },
      },
    }),
  );
  assert.deepEqual(codes(outcome), [
    'instance_not_in_balancer',
    'instance_not_up',
    'instance_not_up',
    'instance_not_up',
  ]);
  assert.match(outcome.findings[1]?.fix ?? '', /set server checkout\/checkout-2 state ready/);
  assert.equal(checkBalancer(deployment({ parts: { balancer: undefined } })).state, 'skipped');
});

test('an HAProxy value HAProxy would refuse (a placeholder set empty) is a finding', () => {
  const outcomes = runChecks(deployment({ env: { HAPROXY_CHECK_INTER: '' } }));
  assert.deepEqual(codes(outcomes[0] ?? { findings: [] }), ['haproxy_value_invalid']);
});
