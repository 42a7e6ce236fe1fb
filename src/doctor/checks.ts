import type { Static } from 'typebox';
import { type CheckoutSettings, checkoutBudgetMs } from '../checkout/config.ts';
import type { Backend, Frontend, HaproxyConfig, Located } from './haproxyConfig.ts';

/**
 * The deployment's configuration as the doctor read it; every check below is a pure function of it.
 * Each part that could not be read is absent, and the checks that need it are skipped, saying why.
 */
export interface Deployment {
  haproxy: { file: string; config: HaproxyConfig };
  /** The checkout service's effective settings (defaults applied), and where each one is declared. */
  settings: Static<typeof CheckoutSettings>;
  settingSource: (name: string) => { file: string; fromEnvironment: boolean };
  /** Checkout instances, and what says so. */
  instances: { count: number; source: string };
  /** PostgreSQL's limits, when DATABASE_URL answered. */
  postgres?: { maxConnections: number; superuserReserved: number; reserved: number } | undefined;
  /** The sandboxes' pools on the same server (a local stack): each DB_POOL_MAX. */
  sandboxPools?: { count: number; poolMax: number } | undefined;
  /** The running balancer's view of its servers (name → HAProxy's status), and the instances it should hold. */
  balancer?: { servers: Record<string, string>; expected: string[] } | undefined;
}

export type CheckName = 'timeouts' | 'keep_alive' | 'connections' | 'health_check' | 'balancer';

export interface Finding {
  check: CheckName;
  /** Stable, documented in docs/operations.md. */
  code: string;
  summary: string;
  /** The setting to change, and where: the HAProxy file and line, or the environment (and its schema's file). */
  setting: string;
  file: string;
  current: string;
  fix: string;
}

export interface CheckOutcome {
  check: CheckName;
  state: 'passed' | 'failed' | 'skipped';
  detail: string;
  findings: Finding[];
}

/** HAProxy's own defaults when a server line says nothing (its configuration manual, section 5.2). */
const HAPROXY_DEFAULT_INTER_MS = 2000;
const HAPROXY_DEFAULT_FALL = 3;
const BACKEND = 'checkout';

/** The backend that serves the checkout: `checkout`, or the only one there is. */
export function checkoutBackend(config: HaproxyConfig): Backend | undefined {
  return (
    config.backends.find((b) => b.name === BACKEND) ??
    (config.backends.length === 1 ? config.backends[0] : undefined)
  );
}

/** The frontend that sends to it (its `default_backend`), or else the first one. */
function checkoutFrontend(config: HaproxyConfig, backend: Backend): Frontend | undefined {
  return config.frontends.find((f) => f.defaultBackend === backend.name) ?? config.frontends[0];
}

const ms = (value: number) => `${value} ms`;

function envSetting(d: Deployment, name: keyof Static<typeof CheckoutSettings>) {
  const { file, fromEnvironment } = d.settingSource(name);
  return {
    setting: name,
    file: `environment (declared in ${file})`,
    current: `${name}=${String(d.settings[name])}${fromEnvironment ? '' : ' (default)'}`,
  };
}

function haproxySetting(d: Deployment, setting: string, at: Located<number> | undefined, shown: string) {
  return {
    setting,
    file: at ? `${d.haproxy.file}:${at.line}` : d.haproxy.file,
    current: at ? `${setting} ${shown}` : `${setting} not set`,
  };
}

function outcome(check: CheckName, findings: Finding[], passed: string): CheckOutcome {
  return {
    check,
    state: findings.length ? 'failed' : 'passed',
    detail: findings.length ? `${findings.length} finding(s)` : passed,
    findings,
  };
}

const skipped = (check: CheckName, detail: string): CheckOutcome => ({
  check,
  state: 'skipped',
  detail,
  findings: [],
});

/**
 * Client > balancer > service > statement: HAProxy's `timeout client` and `timeout server` above the
 * longest the instance may take (a checkout's calls each at their bound, and REQUEST_TIMEOUT_MS for a
 * request to arrive), the client side not below the server side. Else HAProxy answers 504, or drops the
 * client, while the instance is still working on a checkout it may complete.
 */
export function checkTimeouts(d: Deployment): CheckOutcome {
  const backend = checkoutBackend(d.haproxy.config);
  if (!backend) return skipped('timeouts', `no '${BACKEND}' backend in ${d.haproxy.file}`);
  const frontend = checkoutFrontend(d.haproxy.config, backend);
  const server = backend.timeouts.server;
  const client = frontend?.timeouts.client;
  const budget = checkoutBudgetMs(d.settings);
  const findings: Finding[] = [];
  const budgetText = `INVENTORY_TIMEOUT_MS + PAYMENT_TIMEOUT_MS + 2 × DB_STATEMENT_TIMEOUT_MS = ${d.settings.INVENTORY_TIMEOUT_MS} + ${d.settings.PAYMENT_TIMEOUT_MS} + 2 × ${d.settings.DB_STATEMENT_TIMEOUT_MS} = ${budget} ms`;
  for (const [side, at] of [
    ['server', server],
    ['client', client],
  ] as const) {
    if (!at) {
      findings.push({
        check: 'timeouts',
        code: `timeout_${side}_missing`,
        summary: `HAProxy has no 'timeout ${side}': it waits on a stuck ${side} forever (and warns at start)`,
        ...haproxySetting(d, `timeout ${side}`, undefined, ''),
        fix: `set 'timeout ${side}' above ${ms(budget)} in defaults`,
      });
      continue;
    }
    if (at.value <= budget) {
      findings.push({
        check: 'timeouts',
        code: `timeout_${side}_below_budget`,
        summary: `'timeout ${side}' (${ms(at.value)}) is not above a checkout's budget (${budgetText}): HAProxy gives up (504) on a checkout the instance may still complete`,
        ...haproxySetting(d, `timeout ${side}`, at, ms(at.value)),
        fix: `raise 'timeout ${side}' above ${ms(budget)}, or lower DB_STATEMENT_TIMEOUT_MS, PAYMENT_TIMEOUT_MS or INVENTORY_TIMEOUT_MS`,
      });
    } else if (at.value <= d.settings.REQUEST_TIMEOUT_MS) {
      findings.push({
        check: 'timeouts',
        code: `timeout_${side}_below_request_timeout`,
        summary: `'timeout ${side}' (${ms(at.value)}) is not above REQUEST_TIMEOUT_MS (${ms(d.settings.REQUEST_TIMEOUT_MS)}): HAProxy cuts a slow request before the instance answers it 408`,
        ...haproxySetting(d, `timeout ${side}`, at, ms(at.value)),
        fix: `raise 'timeout ${side}' above ${ms(d.settings.REQUEST_TIMEOUT_MS)}, or lower REQUEST_TIMEOUT_MS`,
      });
    }
  }
  if (client && server && client.value < server.value) {
    findings.push({
      check: 'timeouts',
      code: 'timeout_client_below_server',
      summary: `'timeout client' (${ms(client.value)}) is below 'timeout server' (${ms(server.value)}): the client side gives up while the instance's answer may still come`,
      ...haproxySetting(d, 'timeout client', client, ms(client.value)),
      fix: `raise 'timeout client' to at least ${ms(server.value)}`,
    });
  }
  return outcome(
    'timeouts',
    findings,
    `timeout client ${ms(client?.value ?? 0)} ≥ timeout server ${ms(server?.value ?? 0)} > checkout budget ${ms(budget)} > DB_STATEMENT_TIMEOUT_MS ${ms(d.settings.DB_STATEMENT_TIMEOUT_MS)}`,
  );
}

/**
 * The instance keeps an idle connection longer than the balancer does: else the balancer sends a
 * request on a connection the instance is closing, and answers 502 (the keep-alive race). HAProxy's
 * keep-alive is `timeout http-keep-alive`, else `timeout http-request`, else `timeout client`.
 */
export function checkKeepAlive(d: Deployment): CheckOutcome {
  const backend = checkoutBackend(d.haproxy.config);
  if (!backend) return skipped('keep_alive', `no '${BACKEND}' backend in ${d.haproxy.file}`);
  const t = backend.timeouts;
  const [name, at] = t.httpKeepAlive
    ? ['timeout http-keep-alive', t.httpKeepAlive]
    : t.httpRequest
      ? ['timeout http-request', t.httpRequest]
      : ['timeout client', t.client];
  const service = d.settings.KEEP_ALIVE_TIMEOUT_MS;
  if (!at) return skipped('keep_alive', 'HAProxy sets no keep-alive timeout of its own');
  const findings: Finding[] =
    service > at.value
      ? []
      : [
          {
            check: 'keep_alive',
            code: 'keep_alive_not_above_balancer',
            summary: `the instances close idle connections after ${ms(service)}, HAProxy keeps them ${ms(at.value)} ('${name}'): it may reuse one the instance just closed and answer 502`,
            ...envSetting(d, 'KEEP_ALIVE_TIMEOUT_MS'),
            fix: `raise KEEP_ALIVE_TIMEOUT_MS above ${ms(at.value)}, or lower '${name}' (${d.haproxy.file}:${at.line})`,
          },
        ];
  return outcome('keep_alive', findings, `KEEP_ALIVE_TIMEOUT_MS ${ms(service)} > ${name} ${ms(at.value)}`);
}

/**
 * What the deployment may open at once fits in what PostgreSQL lets ordinary roles open: each instance's
 * pool and its health probe's connection, and the sandboxes' when they share the server.
 */
export function checkConnections(d: Deployment): CheckOutcome {
  const perInstance = d.settings.DB_POOL_MAX + 1;
  const sandboxes = d.sandboxPools ? d.sandboxPools.count * (d.sandboxPools.poolMax + 1) : 0;
  const demand = d.instances.count * perInstance + sandboxes;
  const demandText = `${d.instances.count} instance(s) (${d.instances.source}) × (DB_POOL_MAX ${d.settings.DB_POOL_MAX} + 1 health probe)${
    d.sandboxPools ? ` + ${d.sandboxPools.count} sandboxes × (${d.sandboxPools.poolMax} + 1)` : ''
  } = ${demand}`;
  if (!d.postgres) return skipped('connections', `${demandText}; PostgreSQL's max_connections not read`);
  const { maxConnections, superuserReserved, reserved } = d.postgres;
  const limit = maxConnections - superuserReserved - reserved;
  const limitText = `max_connections ${maxConnections} - superuser_reserved_connections ${superuserReserved}${reserved ? ` - reserved_connections ${reserved}` : ''} = ${limit}`;
  const findings: Finding[] =
    demand <= limit
      ? []
      : [
          {
            check: 'connections',
            code: 'connections_over_limit',
            summary: `the deployment may open ${demandText} connections, PostgreSQL allows ${limitText}: the last instances to connect are refused (too many clients)`,
            ...envSetting(d, 'DB_POOL_MAX'),
            fix: `lower DB_POOL_MAX to ${Math.max(1, Math.floor((limit - sandboxes) / d.instances.count) - 1)} or fewer, run fewer instances, raise max_connections (postgresql.conf), or put PgBouncer in front`,
          },
        ];
  return outcome('connections', findings, `${demandText} ≤ ${limitText}`);
}

/**
 * HAProxy notices a draining instance (readiness 503) within its checks' cadence: the first failing
 * check comes within `inter`, the next ones every `fastinter`, and `fall` of them take it out. The
 * instance must keep its listener that long (SHUTDOWN_DRAIN_DELAY_MS), end within SHUTDOWN_TIMEOUT_MS
 * after both the drain and its last requests, and answer a check within HAProxy's check timeout.
 */
export function checkHealthCheck(d: Deployment): CheckOutcome {
  const backend = checkoutBackend(d.haproxy.config);
  if (!backend) return skipped('health_check', `no '${BACKEND}' backend in ${d.haproxy.file}`);
  if (backend.servers.length === 0)
    return skipped('health_check', `the '${backend.name}' backend has no servers`);
  const findings: Finding[] = [];
  const unchecked = backend.servers.filter((s) => !s.check.enabled);
  for (const server of unchecked) {
    findings.push({
      check: 'health_check',
      code: 'health_check_off',
      summary: `server ${server.name} has no 'check': HAProxy never notices it is draining or has lost its database`,
      setting: `server ${server.name} … check`,
      file: `${d.haproxy.file}:${server.line}`,
      current: `server ${server.name} ${server.address}`,
      fix: `add 'check' to the server line or to default-server`,
    });
  }
  const checked = backend.servers.filter((s) => s.check.enabled);
  if (checked.length === 0) return outcome('health_check', findings, '');
  // The slowest server to be noticed bounds the drain.
  const cadences = checked.map((s) => {
    const inter = s.check.inter?.value ?? HAPROXY_DEFAULT_INTER_MS;
    const fastinter = s.check.fastinter?.value ?? inter;
    const fall = s.check.fall?.value ?? HAPROXY_DEFAULT_FALL;
    return { server: s, inter, fastinter, fall, noticeMs: inter + (fall - 1) * fastinter };
  });
  const slowest = cadences.reduce((a, b) => (b.noticeMs > a.noticeMs ? b : a));
  const cadenceText = `inter ${ms(slowest.inter)}${slowest.fastinter !== slowest.inter ? ` + (fall ${slowest.fall} - 1) × fastinter ${ms(slowest.fastinter)}` : ` × fall ${slowest.fall}`} = ${ms(slowest.noticeMs)}`;
  const at = slowest.server.check.inter ?? slowest.server.check.fall;
  const drain = d.settings.SHUTDOWN_DRAIN_DELAY_MS;
  if (drain < slowest.noticeMs) {
    findings.push({
      check: 'health_check',
      code: 'drain_shorter_than_detection',
      summary: `HAProxy takes up to ${cadenceText} to notice a draining instance, but it drains only ${ms(drain)}: requests keep coming to an instance that is closing`,
      ...envSetting(d, 'SHUTDOWN_DRAIN_DELAY_MS'),
      fix: `raise SHUTDOWN_DRAIN_DELAY_MS to at least ${ms(slowest.noticeMs)}, or check more often (HAPROXY_CHECK_INTER, HAPROXY_CHECK_FALL: ${d.haproxy.file}${at ? `:${at.line}` : ''})`,
    });
  }
  const budget = checkoutBudgetMs(d.settings);
  const needed = Math.max(drain, budget);
  if (d.settings.SHUTDOWN_TIMEOUT_MS <= needed) {
    findings.push({
      check: 'health_check',
      code: 'shutdown_timeout_too_short',
      summary: `a shutdown needs the drain (${ms(drain)}) and the checkouts in flight when it began (up to ${ms(budget)}) to end, but SHUTDOWN_TIMEOUT_MS ends it at ${ms(d.settings.SHUTDOWN_TIMEOUT_MS)}: those checkouts are cut off`,
      ...envSetting(d, 'SHUTDOWN_TIMEOUT_MS'),
      fix: `raise SHUTDOWN_TIMEOUT_MS above ${ms(needed)}`,
    });
  }
  // Without `timeout check`, HAProxy gives a whole check `inter` (fastinter while a server changes state).
  const checkTimeout = backend.timeouts.check?.value ?? Math.min(slowest.inter, slowest.fastinter);
  if (d.settings.HEALTH_CHECK_TIMEOUT_MS >= checkTimeout) {
    findings.push({
      check: 'health_check',
      code: 'health_timeout_over_check_timeout',
      summary: `readiness may take HEALTH_CHECK_TIMEOUT_MS (${ms(d.settings.HEALTH_CHECK_TIMEOUT_MS)}) to answer, HAProxy gives a check ${ms(checkTimeout)}: a slow but honest answer counts as a failure`,
      ...envSetting(d, 'HEALTH_CHECK_TIMEOUT_MS'),
      fix: `lower HEALTH_CHECK_TIMEOUT_MS below ${ms(checkTimeout)}, or give HAProxy's checks longer ('timeout check', or a longer inter)`,
    });
  }
  return outcome(
    'health_check',
    findings,
    `detection ${cadenceText} ≤ SHUTDOWN_DRAIN_DELAY_MS ${ms(drain)}; SHUTDOWN_TIMEOUT_MS ${ms(d.settings.SHUTDOWN_TIMEOUT_MS)} > ${ms(needed)}; HEALTH_CHECK_TIMEOUT_MS ${ms(d.settings.HEALTH_CHECK_TIMEOUT_MS)} < check timeout ${ms(checkTimeout)}`,
  );
}

/** Every instance of the running stack is in the running balancer, and every server there is UP. */
export function checkBalancer(d: Deployment): CheckOutcome {
  if (!d.balancer) return skipped('balancer', 'no running HAProxy was read');
  const { servers, expected } = d.balancer;
  const findings: Finding[] = [];
  for (const name of expected.filter((n) => !(n in servers))) {
    findings.push({
      check: 'balancer',
      code: 'instance_not_in_balancer',
      summary: `instance ${name} runs but HAProxy has no server of that name: it takes no traffic`,
      setting: `server ${name}`,
      file: d.haproxy.file,
      current: `HAProxy's servers: ${Object.keys(servers).join(', ') || 'none'}`,
      fix: `add a 'server ${name}' line to the backend and reload HAProxy`,
    });
  }
  for (const [name, status] of Object.entries(servers)) {
    // "UP", or "UP 1/2" while a failing check has not yet reached `fall`: both still take traffic.
    if (status === 'UP') continue;
    findings.push({
      check: 'balancer',
      code: 'instance_not_up',
      summary: `HAProxy has server ${name} ${status}: ${status.startsWith('UP') ? 'its checks are failing' : 'it takes no traffic'}`,
      setting: `server ${name}`,
      file: d.haproxy.file,
      current: `status ${status}`,
      fix:
        status.startsWith('MAINT') || status.startsWith('DRAIN')
          ? `put it back: 'set server ${BACKEND}/${name} state ready' on HAProxy's admin socket (or finish the restart that drained it)`
          : `read its readiness (/health/ready) and its log: it fails HAProxy's check`,
    });
  }
  return outcome('balancer', findings, `${Object.keys(servers).length} server(s) UP`);
}

/** HAProxy values HAProxy itself would refuse: an empty placeholder, a time without digits. */
export function haproxyProblems(d: Deployment): Finding[] {
  return d.haproxy.config.problems.map((p) => ({
    check: 'timeouts' as const,
    code: 'haproxy_value_invalid',
    summary: `HAProxy would refuse this line: ${p.message}`,
    setting: p.message.split(':')[0] ?? '',
    file: `${d.haproxy.file}:${p.line}`,
    current: p.message,
    fix: 'set the environment variable of its placeholder, or a valid value',
  }));
}

export const CHECKS = [
  checkTimeouts,
  checkKeepAlive,
  checkConnections,
  checkHealthCheck,
  checkBalancer,
] as const;

/** Every check on one deployment. */
export function runChecks(d: Deployment): CheckOutcome[] {
  const outcomes = CHECKS.map((check) => check(d));
  const invalid = haproxyProblems(d);
  const timeouts = outcomes[0];
  if (invalid.length && timeouts) {
    timeouts.findings.unshift(...invalid);
    timeouts.state = 'failed';
    timeouts.detail = `${timeouts.findings.length} finding(s)`;
  }
  return outcomes;
}
