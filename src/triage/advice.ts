import type { SignalKind } from './LogEvidence.ts';
import type { Category } from './report.ts';

/** The article's decision output for each category, and where the runbook picks it up. */
export const FIXES: Record<Category, { fix: string; runbook: string }> = {
  bad_deployment: {
    fix: 'Roll back first, investigate second: redeploy the previous build; then fix, and redeploy with migrations run before the code that needs them.',
    runbook: 'docs/runbooks.md#checkouterrorratehigh',
  },
  unhandled_exception: {
    fix: "Open the top exception group's frame: handle the case there and answer a meaningful error, fix the root cause, and add the test that reproduces it.",
    runbook: 'docs/runbooks.md#errorratehigh',
  },
  misconfiguration: {
    fix: 'Set the missing or wrong setting and restart the service; `steadfast preflight` checks the settings before the port opens.',
    runbook: 'docs/runbooks.md#instancedown',
  },
  resource_exhaustion: {
    fix: 'Immediately: free the resource (end the slow statements or idle connections, make room) or scale out; then fix the leak, and tune the pool size and timeouts.',
    runbook: 'docs/runbooks.md#dbpoolusage',
  },
  database_failure: {
    fix: 'Bring PostgreSQL back (is it up, reachable, answering?); the service answers 503 meanwhile and its recovery worker settles open checkouts once it is back; run `steadfast reconcile` after.',
    runbook: 'docs/runbooks.md#databasedown',
  },
  dependency_failure: {
    fix: 'Do not restart the checkout service: its breaker fails fast with 503 and Retry-After. Check the dependency and its provider; recovery settles open checkouts when it is back; run `steadfast reconcile` after.',
    runbook: 'docs/runbooks.md#circuitbreakeropen',
  },
  overload: {
    fix: 'Scale out (more instances behind the load balancer) or bring the load down (a retry storm, a bot); the instance sheds what it cannot carry and keeps its goodput.',
    runbook: 'docs/runbooks.md#instanceshedding',
  },
};

/** The runbook section for a resource, where it is not the pool's. */
export const RESOURCE_RUNBOOKS: Partial<Record<SignalKind, string>> = {
  memory: 'docs/runbooks.md#memoryavailablelow',
  file_descriptors: 'docs/runbooks.md#filedescriptorshigh',
  disk: 'docs/runbooks.md#diskusage',
};

/** The alert of ops/prometheus that pages for each kind of finding. */
export const ALERTS: Partial<Record<SignalKind, string>> = {
  database: 'DatabaseDown',
  dependency: 'CircuitBreakerOpen',
  breaker_open: 'CircuitBreakerOpen',
  pool_saturated: 'DbPoolUsageCritical',
  slow_statements: 'DbPoolUsageCritical',
  db_connections: 'DbPoolUsageCritical',
  memory: 'MemoryAvailableLow',
  file_descriptors: 'FileDescriptorsHigh',
  disk: 'DiskUsageCritical',
  overload: 'InstanceShedding',
  event_loop: 'LatencyP99High',
  exception: 'ErrorRateHigh',
  schema_mismatch: 'ErrorRateHigh',
  startup_failure: 'InstanceDown',
};

/**
 * The fix when the balancer made the 5xx: each names the setting to change. None of the alerts of
 * ops/prometheus sees these (they read the instances' metrics, and the instances answered or never heard).
 */
export const EDGE_FIXES: Record<string, { fix: string; runbook: string }> = {
  balancer_timeout: {
    fix: "Raise HAProxy's 'timeout server' (HAPROXY_TIMEOUT_SERVER) above the service's budget (checkoutBudgetMs: INVENTORY_TIMEOUT_MS + PAYMENT_TIMEOUT_MS + 2 × DB_STATEMENT_TIMEOUT_MS), or lower the service's timeouts below it; then run `steadfast reconcile`: a checkout the client saw fail with 504 may have been charged. `steadfast doctor` checks the ordering.",
    runbook: 'docs/runbooks.md#balancer5xx',
  },
  instance_unresponsive: {
    fix: "Take the instance out at the balancer (`set server checkout/<name> state maint` on the admin socket) and restart it; then find why it froze (a stop-the-world pause, CPU starved, a stopped process). To lose fewer requests, a shorter check cadence (HAPROXY_CHECK_INTER × HAPROXY_CHECK_FALL) and a 'timeout server' just above the budget bound how long one is trusted.",
    runbook: 'docs/runbooks.md#balancer5xx',
  },
  no_server: {
    fix: 'Bring an instance back into the backend: every server is down, in maintenance or draining (`show servers state` on the admin socket, or the stats page); `set server checkout/<name> state ready` ends a drain or maintenance left behind, and a down one has its readiness check to answer (see InstanceDown).',
    runbook: 'docs/runbooks.md#balancer5xx',
  },
  shed_at_edge: {
    fix: "Scale out, or find what made each checkout slower (the instances' latency, the database, a dependency): the admission limit each instance reports follows its latency. The refused clients were told to retry (Retry-After), and nothing was done for them.",
    runbook: 'docs/runbooks.md#balancer5xx',
  },
  queue_timeout: {
    fix: "Scale out, or raise the servers' maxconn (default-server in haproxy.cfg) if the instances have room; 'timeout queue' only decides how long a request waits for a slot.",
    runbook: 'docs/runbooks.md#balancer5xx',
  },
  connection_refused: {
    fix: 'Bring the instance back or take it out of the backend: HAProxy could not connect to it, even after its retries; its readiness check should have taken it out (check inter × fall).',
    runbook: 'docs/runbooks.md#balancer5xx',
  },
  server_aborted: {
    fix: "Keep the instance's keep-alive above the balancer's: KEEP_ALIVE_TIMEOUT_MS above HAProxy's 'timeout http-keep-alive' (a connection the instance closes as HAProxy reuses it is a 502); if the instance died mid-request, its log and the supervisor's say why.",
    runbook: 'docs/runbooks.md#balancer5xx',
  },
  balancer_5xx: {
    fix: "Read the termination state of HAProxy's lines (docs/triage.md) for which side ended each request, and the instance's log for the same request id.",
    runbook: 'docs/runbooks.md#balancer5xx',
  },
};
