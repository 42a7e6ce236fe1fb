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
