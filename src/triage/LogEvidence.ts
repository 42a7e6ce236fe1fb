import { DEPENDENCY_OF_SERVICE } from './dependencies.ts';

/**
 * Everything triage learns from log lines, gathered in one pass with memory bounded by what is
 * distinct (services, endpoints, exception groups, ten-second buckets), never by the number of lines.
 */

/** A log line that decided something, as the reader is shown it. */
export interface EvidenceLine {
  /** `<file>:<line number>` */
  at: string;
  time?: string;
  line: string;
}

/** What a run of similar failing lines points at: a dependency, the database, a resource, a bug. */
export type SignalKind =
  | 'startup_failure'
  | 'schema_mismatch'
  | 'exception'
  | 'database'
  | 'dependency'
  | 'pool_saturated'
  | 'slow_statements'
  | 'db_connections'
  | 'file_descriptors'
  | 'disk'
  | 'memory'
  | 'event_loop'
  | 'overload'
  | 'breaker_open'
  | 'dependency_saturated';

export interface Signal {
  kind: SignalKind;
  /** The dependency or resource it concerns, when there is one. */
  subject?: string;
  first: number;
  last: number;
  count: number;
  reasons: Record<string, number>;
  samples: EvidenceLine[];
}

export interface ExceptionGroup {
  errorClass: string;
  /** The top stack frame in the project's own code, `src/...ts:line`. */
  frame: string;
  message: string;
  count: number;
  first: number;
  last: number;
  endpoints: Set<string>;
  versions: Set<string>;
  statusCodes: Set<number>;
  sampleErrorIds: string[];
}

export interface ServiceStart {
  service: string;
  time: number;
  version?: string;
  commit?: string;
  pid?: number;
  url?: string;
  paymentApiUrl?: string;
  inventoryApiUrl?: string;
  evidence: EvidenceLine;
}

export interface Bucket {
  requests: number;
  failures: number;
}

export const BUCKET_MS = 1000;
const MAX_SAMPLES = 3;
const MAX_GROUPS = 500;
const MAX_STARTS = 1000;
const MAX_SET = 10;

type LogRecord = Record<string, unknown>;

export class LogEvidence {
  lines = 0;
  requests = 0;
  failures = 0;
  firstFailure: EvidenceLine | undefined;
  firstFailureTime: number | undefined;
  lastFailureTime: number | undefined;
  /** The first confirmed checkout: a dependency that worked once was not misconfigured from the start. */
  firstCheckoutConfirmed: number | undefined;
  readonly failuresByEndpoint = new Map<string, number>();
  /** When each endpoint first answered below 500: one that never did has failed "since start". */
  readonly firstSuccessByEndpoint = new Map<string, number>();
  readonly buckets = new Map<number, Bucket>();
  readonly signals = new Map<string, Signal>();
  readonly groups = new Map<string, ExceptionGroup>();
  readonly starts: ServiceStart[] = [];
  readonly startupFailureTexts: EvidenceLine[] = [];
  /** Dependencies whose own log blames the database: their failures are the database's symptoms. */
  readonly dependenciesFailingOnDatabase = new Set<string>();
  readonly #since: number | undefined;

  constructor(options: { since?: number } = {}) {
    this.#since = options.since;
  }

  /** Reads one line of `file`; anything that is not a JSON log line is passed over, but a startup failure. */
  add(file: string, lineNo: number, text: string): void {
    this.lines++;
    if (!text.startsWith('{')) {
      // The plain-text twin of a startup failure's log line; kept to show, it carries no time to count by.
      if (text.startsWith('STARTUP_FAILURE:') && this.startupFailureTexts.length < MAX_SAMPLES)
        this.startupFailureTexts.push({ at: `${file}:${lineNo}`, line: text });
      return;
    }
    let record: LogRecord;
    try {
      record = JSON.parse(text) as LogRecord;
    } catch {
      return;
    }
    const time = typeof record.time === 'string' ? Date.parse(record.time) : Number(record.time);
    if (!Number.isFinite(time)) return;
    const evidence = (): EvidenceLine => ({
      at: `${file}:${lineNo}`,
      time: new Date(time).toISOString(),
      line: summarize(record),
    });
    if (record.msg === 'service_started' || record.event === 'service_started') {
      if (this.starts.length < MAX_STARTS) this.starts.push(startOf(record, time, evidence()));
    }
    if (this.#since !== undefined && time < this.#since) return;
    if (record.msg === 'request_completed') this.#request(record, time, evidence);
    else if (typeof record.errorId === 'string' && typeof record.stack === 'string')
      this.#serverError(record, time, evidence);
    else if (record.event === 'startup_failure') {
      const problems = Array.isArray(record.problems) ? record.problems.map(String) : [String(record.msg)];
      const kind = problems.some((p) => /schema|migration/i.test(p)) ? 'schema_mismatch' : 'startup_failure';
      this.#signal(
        kind,
        String(record.service ?? ''),
        time,
        { ...evidence(), line: `${summarize(record)} problems=${problems.join(' | ')}` },
        problems.join(' '),
      );
    } else if (record.level === 'fatal' && typeof record.stack === 'string') {
      this.#serverError(record, time, evidence);
    }
  }

  #request(record: LogRecord, time: number, evidence: () => EvidenceLine): void {
    const status = Number(record.statusCode);
    // A dependency's own 5xx is evidence against it, not a failure of the service under triage.
    const dependency = DEPENDENCY_OF_SERVICE[String(record.service)];
    if (dependency) {
      if (status >= 500) this.#signal('dependency', dependency, time, evidence(), `answered_${status}`);
      return;
    }
    const refused = record.error === 'SERVER_OVERLOADED';
    // Refusals are sampled in the log: the line says how many went unlogged since the last one.
    const weight = refused ? 1 + Number(record.refusalsNotLogged ?? 0) : 1;
    this.requests += weight;
    const bucket = this.#bucket(time);
    bucket.requests += weight;
    if (status === 201 && record.endpoint === 'POST /api/checkout/complete')
      this.firstCheckoutConfirmed = Math.min(this.firstCheckoutConfirmed ?? time, time);
    if (refused) this.#signal('overload', String(record.service ?? ''), time, evidence(), 'shed', weight - 1);
    const endpoint = String(record.endpoint ?? 'unknown');
    if (status < 500) {
      const known = this.firstSuccessByEndpoint.get(endpoint);
      if (known === undefined || time < known) this.firstSuccessByEndpoint.set(endpoint, time);
      return;
    }
    this.failures += weight;
    bucket.failures += weight;
    this.failuresByEndpoint.set(endpoint, (this.failuresByEndpoint.get(endpoint) ?? 0) + weight);
    if (this.firstFailureTime === undefined || time < this.firstFailureTime) {
      this.firstFailureTime = time;
      this.firstFailure = evidence();
    }
    this.lastFailureTime = Math.max(this.lastFailureTime ?? time, time);
  }

  #serverError(record: LogRecord, time: number, evidence: () => EvidenceLine): void {
    const ownerDependency = DEPENDENCY_OF_SERVICE[String(record.service)];
    const dependency = typeof record.dependency === 'string' ? record.dependency : ownerDependency;
    if (ownerDependency && dependency === 'database') this.dependenciesFailingOnDatabase.add(ownerDependency);
    const reason = String(record.reason ?? record.errorClass ?? 'error');
    const message = String(record.msg ?? '');
    const stack = String(record.stack);
    const line = evidence();
    this.#group(record, time, stack, message);
    // This process out of a resource fails every call it makes, whatever it calls: the resource decides.
    const resource = ownerDependency ? undefined : exhaustedResource(`${message}\n${stack}`);
    if (resource) {
      this.#signal(resource.kind, resource.subject, time, line, resource.code);
      return;
    }
    if (dependency === 'database') {
      if (reason === 'saturated') this.#signal('pool_saturated', 'database', time, line, reason);
      else if (/statement timeout/i.test(message))
        this.#signal('slow_statements', 'database', time, line, 'statement_timeout');
      else if (/too many clients|remaining connection slots/i.test(message))
        this.#signal('db_connections', 'database', time, line, reason);
      else this.#signal('database', 'database', time, line, reason);
      return;
    }
    if (dependency) {
      if (reason === 'circuit_open') this.#signal('breaker_open', dependency, time, line, reason);
      else if (reason === 'saturated') this.#signal('dependency_saturated', dependency, time, line, reason);
      else this.#signal('dependency', dependency, time, line, reason);
      return;
    }
    const text = `${message}\n${stack}`;
    if (/(column|relation|table) .* does not exist|undefined_column|undefined_table/i.test(text))
      this.#signal('schema_mismatch', String(record.service ?? ''), time, line, 'schema');
    else
      this.#signal(
        'exception',
        String(record.errorClass ?? 'Error'),
        time,
        line,
        String(record.errorClass ?? 'Error'),
      );
  }

  #group(record: LogRecord, time: number, stack: string, message: string): void {
    const errorClass = String(record.errorClass ?? stack.split(':')[0] ?? 'Error');
    const frame = projectFrame(stack) ?? 'unknown';
    const key = `${errorClass}@${frame}`;
    let group = this.groups.get(key);
    if (!group) {
      if (this.groups.size >= MAX_GROUPS) return;
      group = {
        errorClass,
        frame,
        message,
        count: 0,
        first: time,
        last: time,
        endpoints: new Set(),
        versions: new Set(),
        statusCodes: new Set(),
        sampleErrorIds: [],
      };
      this.groups.set(key, group);
    }
    group.count++;
    group.first = Math.min(group.first, time);
    group.last = Math.max(group.last, time);
    addCapped(group.endpoints, String(record.endpoint ?? 'unknown'));
    addCapped(group.versions, [record.version, record.commit].filter(Boolean).join('+') || 'unknown');
    if (typeof record.statusCode === 'number') group.statusCodes.add(record.statusCode);
    if (group.sampleErrorIds.length < MAX_SAMPLES && typeof record.errorId === 'string')
      group.sampleErrorIds.push(record.errorId);
  }

  #signal(
    kind: SignalKind,
    subject: string | undefined,
    time: number,
    evidence: EvidenceLine,
    reason: string,
    extra = 0,
  ): void {
    const key = `${kind}:${subject ?? ''}`;
    let signal = this.signals.get(key);
    if (!signal) {
      signal = {
        kind,
        subject: subject || undefined,
        first: time,
        last: time,
        count: 0,
        reasons: {},
        samples: [],
      };
      this.signals.set(key, signal);
    }
    signal.count += 1 + extra;
    signal.reasons[reason] = (signal.reasons[reason] ?? 0) + 1 + extra;
    if (time < signal.first) {
      signal.first = time;
      signal.samples.unshift(evidence);
      signal.samples.length = Math.min(signal.samples.length, MAX_SAMPLES);
    } else if (signal.samples.length < MAX_SAMPLES) signal.samples.push(evidence);
    signal.last = Math.max(signal.last, time);
  }

  #bucket(time: number): Bucket {
    const key = Math.floor(time / BUCKET_MS) * BUCKET_MS;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { requests: 0, failures: 0 };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}

const RESOURCE_ERRORS: { pattern: RegExp; kind: SignalKind; subject: string; code: string }[] = [
  {
    pattern: /EMFILE|ENFILE|too many open files/i,
    kind: 'file_descriptors',
    subject: 'file descriptors',
    code: 'EMFILE',
  },
  { pattern: /ENOSPC|no space left/i, kind: 'disk', subject: 'disk', code: 'ENOSPC' },
  {
    pattern: /ENOMEM|heap out of memory|allocation failed/i,
    kind: 'memory',
    subject: 'memory',
    code: 'ENOMEM',
  },
];

function exhaustedResource(text: string) {
  return RESOURCE_ERRORS.find((r) => r.pattern.test(text));
}

/** The fields a person needs from a log line, in one short line; the stack is left to `--error-id`. */
const SHOWN = [
  'msg',
  'event',
  'dependency',
  'reason',
  'statusCode',
  'error',
  'errorClass',
  'endpoint',
  'errorId',
  'service',
  'level',
  'version',
  'commit',
  'durationMs',
];

export function summarize(record: LogRecord): string {
  const parts: string[] = [];
  for (const field of SHOWN) {
    const value = record[field];
    if (value === undefined || value === null || value === '') continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    parts.push(`${field}=${text.length > 120 ? `${text.slice(0, 117)}...` : text}`);
  }
  return parts.join(' ');
}

const FRAME =
  /\(?(?:file:\/\/)?[^\s()]*?\/?((?:src|bench|test)\/[^\s():]+\.[cm]?[jt]s):(\d+)(?::\d+)?\)?\s*$/;

/** The first frame of a stack in the project's own code (not a dependency's, not Node's), as `src/...:line`. */
export function projectFrame(stack: string): string | undefined {
  for (const line of stack.split('\n')) {
    if (!line.trimStart().startsWith('at ') || line.includes('node_modules') || line.includes('node:'))
      continue;
    const match = FRAME.exec(line);
    if (match) return `${match[1]}:${match[2]}`;
  }
  return undefined;
}

function startOf(record: LogRecord, time: number, evidence: EvidenceLine): ServiceStart {
  const text = (name: string) => (typeof record[name] === 'string' ? (record[name] as string) : undefined);
  return {
    service: text('service') ?? 'unknown',
    time,
    version: text('version'),
    commit: text('commit'),
    pid: typeof record.pid === 'number' ? record.pid : undefined,
    url: text('url'),
    paymentApiUrl: text('paymentApiUrl'),
    inventoryApiUrl: text('inventoryApiUrl'),
    evidence,
  };
}

function addCapped<T>(set: Set<T>, value: T): void {
  if (set.size < MAX_SET) set.add(value);
}
