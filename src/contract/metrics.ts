/**
 * The metrics Steadfast's services expose at `GET /metrics`: each name with its help and labels, declared
 * once for the code that registers it, the dashboard, triage and the alert rules. Every series carries the
 * label `service` (the registry's default label). Imports nothing: any layer may depend on it.
 *
 * A metric registered under a name not declared here, or an alert rule reading one, fails
 * `contract.test.ts`.
 */

/** Every series' own label: which service exposed it. */
export const SERVICE_LABEL = 'service';

export const Metrics = {
  // The platform's, in every service.
  activeResources: {
    name: 'nodejs_active_resources',
    help: 'Resources (sockets, timers, file handles, ...) keeping the event loop alive.',
  },
  httpRequests: {
    name: 'http_requests_total',
    help: 'HTTP requests, by route pattern and status code; 499: the client closed the connection before its answer.',
    labelNames: ['method', 'route', 'status_code'],
  },
  httpRequestDuration: {
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by route pattern and status class (2xx, 4xx, 5xx).',
    labelNames: ['method', 'route', 'status_class'],
  },
  // The same requests under OpenTelemetry's semantic-convention names, labels and advised buckets, for
  // tools that read those; the alert rules, the dashboard and triage read the two histograms above.
  httpServerRequestDuration: {
    name: 'http_server_request_duration_seconds',
    help: 'OpenTelemetry http.server.request.duration: time from request to response; http_route is absent for a request no route matched, error_type is the status code of a 5xx.',
    labelNames: [
      'http_request_method',
      'http_route',
      'http_response_status_code',
      'url_scheme',
      'error_type',
    ],
  },
  httpClientRequestDuration: {
    name: 'http_client_request_duration_seconds',
    help: 'OpenTelemetry http.client.request.duration: time of one HTTP request to a dependency, sent to last byte (bulkhead wait excluded); error_type is the status code of a 4xx or 5xx, or why no answer came (timeout, unreachable, connection_lost).',
    labelNames: [
      'http_request_method',
      'server_address',
      'server_port',
      'http_response_status_code',
      'error_type',
    ],
  },
  dependencyCalls: {
    name: 'dependency_calls_total',
    help: 'Calls to a dependency, by outcome: success, failure, timeout, rejected_breaker, rejected_bulkhead.',
    labelNames: ['dependency', 'outcome'],
  },
  dependencyCallDuration: {
    name: 'dependency_call_duration_seconds',
    help: 'Time of one call to a dependency, queueing in its bulkhead included.',
    labelNames: ['dependency'],
  },
  poolRejected: {
    name: 'db_pool_rejected_total',
    help: 'Database calls refused at once because every connection was busy and the wait queue full.',
  },
  requestsShed: {
    name: 'http_requests_shed_total',
    help: 'Requests refused at the door with 503 SERVER_OVERLOADED, by reason: in_flight, event_loop_delay, event_loop_utilization, heap_used.',
    labelNames: ['reason'],
  },
  admissionLimit: {
    name: 'http_admission_limit',
    help: 'Requests of a route let in at once now: the adaptive admission limit; past it a request is shed (reason in_flight).',
    labelNames: ['route'],
  },
  admissionInFlight: {
    name: 'http_admission_in_flight',
    help: 'Requests of a route let in by its admission limit and not answered yet.',
    labelNames: ['route'],
  },
  logLinesDropped: {
    name: 'log_lines_dropped_total',
    help: 'Log lines not shipped to the collector (LOG_SYSLOG_URL) because it could not take them and the buffer was full.',
  },
  logConnectionsLost: {
    name: 'log_collector_connections_lost_total',
    help: 'Connections to the log collector (LOG_SYSLOG_URL) that broke or that it closed: what was in flight on them may be lost.',
  },
  logHeldBytes: {
    name: 'log_held_bytes',
    help: 'Bytes of log lines held for the collector (LOG_SYSLOG_URL) while it cannot take them.',
  },
  breakerState: {
    name: 'circuit_breaker_state',
    help: 'State of the circuit breaker of each dependency: 0 closed, 1 half-open, 2 open.',
    labelNames: ['dependency'],
  },
  poolConnections: {
    name: 'db_pool_connections',
    help: 'Database pool connections: active (checked out), idle, and calls waiting for one.',
    labelNames: ['state'],
  },
  poolMaxConnections: {
    name: 'db_pool_max_connections',
    help: 'The most connections the database pool opens.',
  },
  memoryAvailable: {
    name: 'host_memory_available_bytes',
    help: 'Memory available to this process on its host or container (MemAvailable, or the cgroup limit left).',
  },
  memoryTotal: {
    name: 'host_memory_total_bytes',
    help: 'Memory of the host, or the cgroup limit when one is set.',
  },
  diskFree: {
    name: 'disk_free_bytes',
    help: 'Bytes free to unprivileged users on the filesystem of a data or log path.',
    labelNames: ['path'],
  },
  diskSize: {
    name: 'disk_size_bytes',
    help: 'Size in bytes of the filesystem of a data or log path.',
    labelNames: ['path'],
  },
  // The checkout's.
  checkoutOutcomes: {
    name: 'checkout_outcomes_total',
    help: 'Checkout requests by outcome: completed, replayed, or the error code answered.',
    labelNames: ['outcome'],
  },
  checkoutRecoveries: {
    name: 'checkout_recoveries_total',
    help: 'Abandoned attempts recovery took up, by result: finished, unwound, or deferred to a later round.',
    labelNames: ['result'],
  },
  lateChargesRefunded: {
    name: 'checkout_late_charges_refunded_total',
    help: 'Charges that landed after recovery had unwound their attempt, found on the second look and refunded.',
  },
  webhookEvents: {
    name: 'checkout_webhook_events_total',
    help: 'Signed webhook events of the payment provider, by type and what became of them: settled (an attempt moved), unchanged (it had), duplicate (the event was seen before), ignored (not about a checkout), deferred (answered 503, to be sent again).',
    labelNames: ['type', 'outcome'],
  },
  attemptsUnsettled: {
    name: 'checkout_attempts_unsettled',
    help: 'Attempts neither completed with their stock sold nor failed with their stock given back, untouched for longer than a lease.',
  },
} as const;

/**
 * prom-client's default metrics (`collectDefaultMetrics`) that a reader of this project relies on: their
 * names are prom-client's, listed so that a reader names them from here too.
 */
export const NodeMetrics = {
  heapUsed: 'nodejs_heap_size_used_bytes',
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
  openFds: 'process_open_fds',
  maxFds: 'process_max_fds',
} as const;
