import { isEvent } from '../contract/logEvents.ts';
import { CHECKOUT_ENDPOINT } from '../contract/services.ts';
import { AbruptStops, type RunLine } from './abruptStops.ts';
import {
  looksLikeBalancerLine,
  looksLikeBalancerMessage,
  parseBalancerEvent,
  parseBalancerLine,
} from './balancerLog.ts';
import { dependencyOfService } from './dependencies.ts';
import { EdgeEvidence } from './edgeEvidence.ts';
import { type LogLine, parseLogLine } from './logLine.ts';
import { looksLikePostgresLine, POSTGRES_SERVICE, parsePostgresLine } from './postgresLog.ts';
import { LINE_REASONS, type LineReason, type PassedOverReport } from './report.ts';
import { observeTemplate } from './templateLines.ts';
import { LogTemplates } from './templates.ts';

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
  /** A fingerprint of the settings it started with: same build, other hash, a configuration change. */
  configHash?: string;
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
/** Past these, what is new is counted under a shared key: hostile logs cannot grow the maps without end. */
const MAX_ENDPOINTS = 1000;
const MAX_SIGNALS = 1000;
/** A million seconds of traffic (eleven days); later seconds still count, only the per-second rate is lost. */
const MAX_BUCKETS = 1_000_000;
const OTHERS = '(others)';
/** How much of a line's text is kept or matched: patterns run on at most this, so a huge field costs little. */
const MAX_TEXT = 500;
const MAX_MATCHED = 16_384;
const MAX_SCHEMA_TEXT = 4096;

type LogRecord = LogLine;

export class LogEvidence {
  lines = 0;
  /** Lines that could not be used, by why; the first few of them to show. */
  readonly passedOver: PassedOverReport = {
    total: 0,
    reasons: Object.fromEntries(LINE_REASONS.map((reason) => [reason, 0])) as Record<LineReason, number>,
    samples: [],
  };
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
  /** Instances whose lines stopped with no shutdown logged: killed, or their machine gone. */
  readonly abruptStops = new AbruptStops();
  readonly startupFailureTexts: EvidenceLine[] = [];
  /** Dependencies whose own log blames the database: their failures are the database's symptoms. */
  readonly dependenciesFailingOnDatabase = new Set<string>();
  /** HAProxy's request lines, joined to the instances' by request id. */
  readonly edge = new EdgeEvidence();
  /** What the warn-and-above lines and the 5xx answers say, clustered: for failures no rule knows. */
  readonly templates = new LogTemplates();
  readonly #since: number | undefined;
  /** Files in which PostgreSQL's lines were seen: their tab-indented lines go on a statement. */
  readonly #postgresFiles = new Set<string>();

  constructor(options: { since?: number } = {}) {
    this.#since = options.since;
  }

  /**
   * Reads one line of `file`. A line that is not a JSON log line (but a startup failure's), or whose
   * fields are not of their types, is counted as passed over.
   */
  add(file: string, lineNo: number, text: string): void {
    this.lines++;
    if (!text.startsWith('{')) {
      // The plain-text twin of a startup failure's log line; kept to show, it carries no time to count by.
      if (looksLikeBalancerLine(text)) this.#balancer(file, lineNo, text);
      else if (looksLikeBalancerMessage(text) && this.#balancerEvent(file, lineNo, text)) return;
      else if (text.startsWith('STARTUP_FAILURE:')) {
        if (this.startupFailureTexts.length < MAX_SAMPLES)
          this.startupFailureTexts.push({ at: `${file}:${lineNo}`, line: clip(text, MAX_TEXT) });
      } else if (looksLikePostgresLine(text)) this.#postgres(file, lineNo, text);
      // A statement PostgreSQL logs over several lines goes on in lines indented with a tab.
      else if (text.startsWith('\t') && this.#postgresFiles.has(file)) return;
      else this.passOver(file, lineNo, 'not_json', 'not a JSON log line');
      return;
    }
    const parsed = parseLogLine(text);
    if ('reason' in parsed) {
      this.passOver(file, lineNo, parsed.reason, parsed.detail);
      return;
    }
    try {
      this.#use(file, lineNo, parsed.record, parsed.time);
    } catch (error) {
      // A value too deep for a recursive step somewhere: this line is lost, not the run.
      if (!(error instanceof RangeError)) throw error;
      this.passOver(file, lineNo, 'too_deep', 'nested too deep to read');
    }
  }

  /** A line that was not read whole: longer than the limit. */
  cutLine(file: string, lineNo: number): void {
    this.lines++;
    this.passOver(file, lineNo, 'too_long', 'longer than the line limit');
  }

  /** `count` empty lines. */
  blankLines(count: number): void {
    this.lines += count;
    this.passedOver.total += count;
    this.passedOver.reasons.blank += count;
  }

  passOver(file: string, lineNo: number, reason: LineReason, detail: string): void {
    this.passedOver.total++;
    this.passedOver.reasons[reason]++;
    if (this.passedOver.samples.length < MAX_SAMPLES + 2)
      this.passedOver.samples.push({ at: `${file}:${lineNo}`, reason, detail });
  }

  /** A line of PostgreSQL's own log: its warnings and worse join what no rule knows, by their text. */
  #postgres(file: string, lineNo: number, text: string): void {
    const line = parsePostgresLine(text);
    if (!line) {
      this.passOver(file, lineNo, 'bad_time', 'a PostgreSQL line whose time or severity cannot be read');
      return;
    }
    this.#postgresFiles.add(file);
    if (this.#since !== undefined && line.time < this.#since) return;
    const record: LogRecord = {
      time: line.time,
      level: line.level,
      service: POSTGRES_SERVICE,
      msg: line.msg,
      pid: line.pid,
    };
    observeTemplate(this.templates, record, line.time, () => ({
      at: `${file}:${lineNo}`,
      time: new Date(line.time).toISOString(),
      line: clip(text, MAX_TEXT),
    }));
  }

  /** A line of the load balancer's request log: its fields checked as a JSON line's are. */
  #balancer(file: string, lineNo: number, text: string): void {
    const parsed = parseBalancerLine(text);
    if ('reason' in parsed) {
      this.passOver(file, lineNo, parsed.reason, parsed.detail);
      return;
    }
    if (this.#since !== undefined && this.edge.timeOf(parsed.line.wallTime) < this.#since) return;
    // The accept date is in the line as HAProxy printed it: its zone is known only once the join tells it.
    this.edge.balancerRequest(parsed.line, { at: `${file}:${lineNo}`, line: clip(text, MAX_TEXT) });
  }

  /** HAProxy's news of a server (down, up, draining) or of a backend left with none: evidence, undated. */
  #balancerEvent(file: string, lineNo: number, text: string): boolean {
    const event = parseBalancerEvent(text);
    if (event) this.edge.balancerEvent(event, { at: `${file}:${lineNo}`, line: event.text });
    return event !== undefined;
  }

  #use(file: string, lineNo: number, record: LogRecord, time: number): void {
    const evidence = (): EvidenceLine => ({
      at: `${file}:${lineNo}`,
      time: new Date(time).toISOString(),
      line: summarize(record),
    });
    const started = isEvent(record, 'service_started');
    if (started) {
      if (this.starts.length < MAX_STARTS) this.starts.push(startOf(record, time, evidence()));
      this.edge.instanceStarted(record.checkoutBudgetMs ?? undefined);
    }
    if (typeof record.service === 'string') {
      this.abruptStops.observe(
        file,
        { service: record.service, pid: record.pid ?? undefined, event: runEvent(record, started), time },
        evidence,
      );
    }
    if (this.#since !== undefined && time < this.#since) return;
    observeTemplate(this.templates, record, time, evidence);
    if (isEvent(record, 'request_completed')) this.#request(file, record, time, evidence);
    else if (typeof record.errorId === 'string' && typeof record.stack === 'string')
      this.#serverError(record, time, evidence);
    else if (isEvent(record, 'startup_failure')) {
      const problems = (record.problems ?? [String(record.msg ?? '')]).map((p) => clip(p, MAX_TEXT));
      const kind = problems.some((p) => /schema|migration/i.test(p)) ? 'schema_mismatch' : 'startup_failure';
      this.#signal(
        kind,
        record.service ?? '',
        time,
        { ...evidence(), line: clip(`${summarize(record)} problems=${problems.join(' | ')}`, 2 * MAX_TEXT) },
        clip(problems.join(' '), 2 * MAX_TEXT),
      );
    } else if (record.level === 'fatal' && typeof record.stack === 'string') {
      this.#serverError(record, time, evidence);
    } else if (isEvent(record, 'log_file_write_failed')) {
      // The service lives on, its lines on standard output only: the resource its log file is on ran out.
      const resource = exhaustedResource(
        clip(`${record.errorClass ?? ''} ${record.reason ?? ''}`, MAX_MATCHED),
      );
      if (resource)
        this.#signal(
          resource.kind,
          resource.kind === 'disk' ? LOG_DISK : resource.subject,
          time,
          evidence(),
          resource.code,
        );
    }
  }

  #request(file: string, record: LogRecord, time: number, evidence: () => EvidenceLine): void {
    const status = record.statusCode as number;
    // A dependency's own 5xx is evidence against it, not a failure of the service under triage.
    const dependency = dependencyOfService(record.service);
    if (dependency) {
      if (status >= 500) this.#signal('dependency', dependency, time, evidence(), `answered_${status}`);
      return;
    }
    this.edge.instanceRequest(
      file,
      {
        requestId: record.requestId ?? undefined,
        status,
        durationMs: record.durationMs ?? undefined,
        endpoint: record.endpoint ?? undefined,
      },
      time,
    );
    const refused = record.error === 'SERVER_OVERLOADED';
    // Refusals are sampled in the log: the line says how many went unlogged since the last one.
    const weight = refused ? 1 + Number(record.refusalsNotLogged ?? 0) : 1;
    this.requests += weight;
    const bucket = this.#bucket(time);
    bucket.requests += weight;
    if (status === 201 && record.endpoint === CHECKOUT_ENDPOINT)
      this.firstCheckoutConfirmed = Math.min(this.firstCheckoutConfirmed ?? time, time);
    if (refused) this.#signal('overload', record.service ?? '', time, evidence(), 'shed', weight - 1);
    const endpoint = clip(record.endpoint ?? 'unknown', MAX_TEXT);
    if (status < 500 || plannedRefusal(record, endpoint)) {
      const known = this.firstSuccessByEndpoint.get(endpoint);
      if (known === undefined || time < known)
        this.firstSuccessByEndpoint.set(capped(this.firstSuccessByEndpoint, endpoint, MAX_ENDPOINTS), time);
      return;
    }
    this.failures += weight;
    bucket.failures += weight;
    const key = capped(this.failuresByEndpoint, endpoint, MAX_ENDPOINTS);
    this.failuresByEndpoint.set(key, (this.failuresByEndpoint.get(key) ?? 0) + weight);
    if (this.firstFailureTime === undefined || time < this.firstFailureTime) {
      this.firstFailureTime = time;
      this.firstFailure = evidence();
    }
    this.lastFailureTime = Math.max(this.lastFailureTime ?? time, time);
  }

  #serverError(record: LogRecord, time: number, evidence: () => EvidenceLine): void {
    const ownerDependency = dependencyOfService(record.service);
    const dependency =
      typeof record.dependency === 'string' ? clip(record.dependency, MAX_TEXT) : ownerDependency;
    if (ownerDependency && dependency === 'database') this.dependenciesFailingOnDatabase.add(ownerDependency);
    const reason = clip(record.reason ?? record.errorClass ?? 'error', MAX_TEXT);
    const message = clip(record.msg ?? '', MAX_MATCHED);
    const stack = clip(record.stack ?? '', MAX_MATCHED);
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
    // The error's own words come first; the pattern scans each line to its end, so it gets the head only.
    const text = `${message}\n${stack}`.slice(0, MAX_SCHEMA_TEXT);
    if (/(column|relation|table) [^\n]* does not exist|undefined_column|undefined_table/i.test(text))
      this.#signal('schema_mismatch', record.service ?? '', time, line, 'schema');
    else {
      const errorClass = clip(record.errorClass ?? 'Error', MAX_TEXT);
      this.#signal('exception', errorClass, time, line, errorClass);
    }
  }

  #group(record: LogRecord, time: number, stack: string, message: string): void {
    const errorClass =
      clip(record.errorClass ?? stack.slice(0, stack.indexOf(':') >>> 0), MAX_TEXT) || 'Error';
    const frame = clip(projectFrame(stack) ?? 'unknown', MAX_TEXT);
    const key = `${errorClass}@${frame}`;
    let group = this.groups.get(key);
    if (!group) {
      if (this.groups.size >= MAX_GROUPS) return;
      group = {
        errorClass,
        frame,
        message: clip(message, MAX_TEXT),
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
    addCapped(group.endpoints, clip(record.endpoint ?? 'unknown', MAX_TEXT));
    addCapped(
      group.versions,
      clip([record.version, record.commit].filter(Boolean).join('+') || 'unknown', MAX_TEXT),
    );
    if (typeof record.statusCode === 'number') addCapped(group.statusCodes, record.statusCode);
    if (group.sampleErrorIds.length < MAX_SAMPLES && typeof record.errorId === 'string')
      group.sampleErrorIds.push(clip(record.errorId, MAX_TEXT));
  }

  #signal(
    kind: SignalKind,
    subject: string | undefined,
    time: number,
    evidence: EvidenceLine,
    reason: string,
    extra = 0,
  ): void {
    let key = `${kind}:${subject ?? ''}`;
    if (!this.signals.has(key) && this.signals.size >= MAX_SIGNALS) {
      subject = OTHERS;
      key = `${kind}:${OTHERS}`;
    }
    let signal = this.signals.get(key);
    if (!signal) {
      signal = {
        kind,
        subject: subject || undefined,
        first: time,
        last: time,
        count: 0,
        // No prototype: a reason is text from a log line, and "__proto__" or "constructor" is just a name.
        reasons: Object.create(null) as Record<string, number>,
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
      if (this.buckets.size < MAX_BUCKETS) this.buckets.set(key, bucket);
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

/** The subject of LOG_FILE's filesystem, named as its metric names it (`disk_free_bytes{path="logs"}`). */
export const LOG_DISK = 'disk logs';

function exhaustedResource(text: string) {
  return RESOURCE_ERRORS.find((r) => r.pattern.test(text));
}

/** The fields a person needs from a log line, in one short line; the stack is left to `--error-id`. */
const SUMMARY_FIELDS: readonly (keyof LogRecord)[] = [
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

function summarize(record: LogRecord): string {
  const parts: string[] = [];
  for (const field of SUMMARY_FIELDS) {
    const value = record[field];
    if (value === undefined || value === null || value === '') continue;
    // Only the fields of LogLine, checked to be strings or numbers: nothing here walks a nested value.
    const text = String(value);
    parts.push(`${field}=${text.length > 120 ? `${text.slice(0, 117)}...` : text}`);
  }
  return parts.join(' ');
}

/** A frame's location at the end of its line: `...path:line:column`, in parentheses or not. */
const LOCATION = /:(\d+)(?::\d+)?\)?$/;
const PROJECT_PATH = /^[^\s():]+\.[cm]?[jt]s$/;
const PROJECT_ROOTS = ['src/', 'bench/', 'test/'];
/** Frames are short; one longer than this is not a real frame, and is not searched. */
const MAX_FRAME_LINE = 2000;

/**
 * The first frame of a stack in the project's own code (not a dependency's, not Node's), as `src/...:line`.
 * Plain string steps, no backtracking pattern: a hostile stack line costs its length, never its cube.
 */
export function projectFrame(stack: string): string | undefined {
  for (const raw of stack.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('at ') || line.length > MAX_FRAME_LINE) continue;
    if (line.includes('node_modules') || line.includes('node:')) continue;
    const location = LOCATION.exec(line);
    if (!location) continue;
    const before = line.slice(0, location.index);
    const path = before.slice(Math.max(before.lastIndexOf(' '), before.lastIndexOf('(')) + 1);
    for (let at = 0; at < path.length; at++) {
      if (!PROJECT_ROOTS.some((root) => path.startsWith(root, at))) continue;
      const inProject = path.slice(at);
      if (PROJECT_PATH.test(inProject)) return `${inProject}:${location[1]}`;
    }
  }
  return undefined;
}

/**
 * A 503 that is no failure of the service: a request told to go elsewhere while the instance drains
 * (SHUTTING_DOWN), or a health check saying unready, which is the check doing its job (what made it
 * unready fails the requests too, and those count).
 */
function plannedRefusal(record: LogRecord, endpoint: string): boolean {
  return record.error === 'SHUTTING_DOWN' || /^(GET|HEAD) \/health(\/|$)/.test(endpoint);
}

/** What a line says of its process's run, for the abrupt stops. */
function runEvent(record: LogRecord, started: boolean): RunLine['event'] {
  if (isEvent(record, 'service_starting')) return 'starting';
  if (started) return 'started';
  // A run that ends by saying why: stopped, a fatal error, or a start refused by its preflight.
  if (
    isEvent(record, 'shutdown_complete') ||
    isEvent(record, 'fatal_error') ||
    isEvent(record, 'startup_failure')
  )
    return 'ended';
  return isEvent(record, 'service_alive') ? 'alive' : 'other';
}

function startOf(record: LogRecord, time: number, evidence: EvidenceLine): ServiceStart {
  const text = (
    name: 'service' | 'version' | 'commit' | 'configHash' | 'url' | 'paymentApiUrl' | 'inventoryApiUrl',
  ) => {
    const value = record[name];
    return typeof value === 'string' ? clip(value, MAX_TEXT) : undefined;
  };
  return {
    service: text('service') ?? 'unknown',
    time,
    version: text('version'),
    commit: text('commit'),
    configHash: text('configHash'),
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

/** The key to count `key` under: itself while the map has room or knows it, else the shared one. */
function capped<V>(map: Map<string, V>, key: string, max: number): string {
  return map.has(key) || map.size < max ? key : OTHERS;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
