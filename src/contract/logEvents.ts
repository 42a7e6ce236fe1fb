/**
 * The log events of Steadfast's processes and the fields each carries: what the platform and the
 * services write, and what triage, the dashboard and an operator's queries read. A line names its event
 * in `msg`; where `msg` is a sentence for people (an error's own message), the event is in `event`.
 *
 * This module imports nothing, so that every layer may depend on it and it on none. A name written
 * around it (a literal message handed to a logger) fails `contract.test.ts`; a name or a field it does
 * not declare, handed to `logEvent`, fails the type check.
 */

/**
 * How often every service writes `service_alive`: an instance silent for longer than a few of these
 * while others log has stopped without a word (triage's abrupt stops).
 */
export const HEARTBEAT_INTERVAL_MS = 60_000;

/** Fields of every line: pino's base (`service`, `version`, `commit`, `pid`), the request's logger, the trace. */
export interface LineFields {
  level: number | string;
  time: string | number;
  msg: string;
  event?: string;
  service: string;
  version: string;
  commit?: string;
  pid?: number;
  hostname?: string;
  requestId?: string;
  /** The W3C trace and span of the unit of work, named as the OpenTelemetry log data model names them. */
  trace_id?: string;
  span_id?: string;
  /** What earlier versions named `trace_id`: triage reads both, old log files still hold it. */
  traceId?: string;
}

/**
 * What a request adds to its lines as it runs: the platform's error code and errorId, and whatever the
 * service names (its cart, its user), kept by the service.
 */
export type RequestContext = { error?: string; errorId?: string } & Record<string, unknown>;

/** `request_completed`: the one line of every request, however it ended. */
export interface RequestCompleted extends RequestContext {
  /** Method and route pattern (`POST /api/checkout/complete`), never the raw URL. */
  endpoint: string;
  statusCode: number;
  durationMs: number;
  /** A sampled refusal line stands for this many more not written. */
  refusalsNotLogged?: number;
  /** A sampled probe line (health, metrics) stands for this many more not written. */
  probesNotLogged?: number;
}

/** `request_failed`: a request answered with a 5xx, its stack and cause; `msg` is the error's message. */
export interface RequestFailed extends RequestContext {
  errorId: string;
  errorClass: string;
  endpoint: string;
  statusCode: number;
  stack: string;
  /** The dependency that failed, and how (`timeout`, `circuit_open`, ...), when one did. */
  dependency?: string;
  reason?: string;
}

/** `service_started`: once the API's port is open. Services add their own fields (`startedFields`). */
export interface ServiceStarted extends Record<string, unknown> {
  url: string;
  port: number;
  managementUrl?: string;
  /** Where the balancer's agent check reads the admission limit (ADMISSION_AGENT_PORT), on the management host. */
  admissionAgentPort?: number;
  nodeVersion: string;
  /** A hash of the settings without secrets: same version, other hash, the configuration changed. */
  configHash: string;
  /** The checkout's: its whole budget for one checkout, so that triage can set a balancer's timeout against it. */
  checkoutBudgetMs?: number;
  /** The checkout's: where its dependencies are, so that triage can tell a wrong URL from a dead service. */
  paymentApiUrl?: string;
  inventoryApiUrl?: string;
}

export interface BreakerChanged {
  dependency: string;
  breaker: 'OPEN' | 'CLOSED';
}

interface Failure {
  errorClass: string;
  reason: string;
}

interface AttemptFailure {
  attemptId: string;
  errorClass?: string;
  reason: string;
}

/** An action of `steadfast reconcile --repair`: what it did (or tried), to what, and why. */
interface RepairActionFields {
  action: 'refund_charge' | 'release_reservation';
  chargeId?: string;
  reservationId?: string;
  attemptId?: string;
  amountCents?: number;
  reason: string;
}

/** Every event, by name, with its fields. */
export interface LogEvents {
  // The platform's, in every service.
  /** A process's first line, once its logger is made: where triage begins a run of it. */
  service_starting: { nodeVersion: string };
  service_started: ServiceStarted;
  /** Once every HEARTBEAT_INTERVAL_MS while it runs: an instance whose heartbeat stops has died. */
  service_alive: { uptimeSeconds: number };
  request_completed: RequestCompleted;
  request_failed: RequestFailed;
  startup_failure: { problems: string[] };
  fatal_error: { errorClass: string; stack?: string };
  shutdown_started: { signal?: string };
  shutdown_complete: { exitCode: number };
  breaker_opened: BreakerChanged;
  breaker_closed: BreakerChanged;
  /** Written to stdout by hand when the log file cannot be written: its fields are `LineFields` and these. */
  log_file_write_failed: Failure;
  log_lines_dropped: { dropped: number; collector: string };
  /** The balancer's agent check could not be accepted (out of file descriptors): one check missed. */
  admission_agent_failed: Failure;
  /** Spans that did not reach the OTLP collector: once a minute at most, with those lost since the last. */
  span_export_failed: Failure & { spansLost: number };
  // The checkout's.
  order_confirmed: { attemptId: string; orderId: string; chargeId: string; amountCents: number };
  late_charge_refunded: { attemptId: string; chargeId: string; amountCents: number };
  /** Recovery could not release the stock a failed attempt holds: it tries again next round. */
  stock_release_deferred: { attemptId: string; reason: string };
  reservation_outcome_unknown: { attemptId: string; dependency: string };
  charge_outcome_unknown: { attemptId: string; dependency: string };
  attempt_settled_meanwhile: { attemptId: string; reservation: string };
  unwind_deferred_to_recovery: AttemptFailure;
  attempt_recovered: {
    attemptId: string;
    cartId: string;
    userId: string;
    fromPhase: string;
    outcome: string;
  };
  /** A signed webhook settled (or found settled) the attempt it tells of. */
  webhook_event_handled: {
    eventId: string;
    eventType: string;
    attemptId?: string;
    orderId?: string;
    outcome: string;
  };
  /** `msg` is "recovery failed: " and the error's message. */
  attempt_recovery_failed: { attemptId: string; errorClass?: string; stack?: string };
  recovery_round_failed: Failure;
  late_charge_recheck_deferred: AttemptFailure;
  /** `steadfast reconcile --repair --apply` settled what a lost commit left: one line per action. */
  reconcile_repaired: RepairActionFields;
  /** An action of the repair that failed; the next run tries it again. */
  reconcile_repair_failed: RepairActionFields & { errorClass: string; failure: string };
  stock_commit_deferred: { attemptIds: string[]; dependency: string; reason: string };
  idempotent_outcome_not_stored: Failure;
  // The sandboxes'.
  fault_switched: { fault: object };
  reservations_expired: { expired: number };
  reservation_sweep_failed: { errorClass: string; stack?: string };
  webhook_delivery_failed: { eventId?: string; eventType?: string; tries?: number; reason: string };
}

export type LogEventName = keyof LogEvents;

/** The names of every field a line may carry, for readers that check they read only declared ones. */
export type LogFieldName =
  | keyof LineFields
  | { [E in LogEventName]: DeclaredKeys<LogEvents[E]> }[LogEventName];

/** The keys an event declares by name: an open record's index signature names none. */
type DeclaredKeys<T> = keyof {
  [K in keyof T as string extends K ? never : K extends string ? K : never]: T[K];
};

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** What writes a line: pino's logger, Fastify's request logger, a child of either. */
export type LineWriter = Record<Level, (fields: object, message: string) => void>;

/**
 * Writes one event. With a message (a sentence for people, an error's own text), the event's name goes
 * into `event` and the message into `msg`; without one, `msg` is the event's name.
 */
export function logEvent<E extends LogEventName>(
  log: LineWriter,
  level: Level,
  event: E,
  fields: LogEvents[E],
  message?: string,
): void {
  if (message === undefined) log[level](fields, event);
  else log[level]({ event, ...fields }, message);
}

/** Whether a line read back is the event `name`: named in `msg`, or in `event` where `msg` is a sentence. */
export function isEvent(line: { msg?: unknown; event?: unknown }, name: LogEventName): boolean {
  return line.msg === name || line.event === name;
}
