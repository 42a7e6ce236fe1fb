import { statfs } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { basename, resolve } from 'node:path';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { Metrics, SERVICE_LABEL } from '../../contract/metrics.ts';
import { DependencyUnavailableError, type UnavailableReason } from '../errors/DependencyUnavailableError.ts';
import { SHED_REASONS } from '../http/loadShedding.ts';
import { ADVISED_DURATION_BUCKETS, requestMethod, serverErrorType } from './httpSemanticConventions.ts';

/** How one call to a dependency ended, as `dependency_calls_total{outcome}` counts it. */
const CALL_OUTCOMES = ['success', 'failure', 'timeout', 'rejected_breaker', 'rejected_bulkhead'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

const OUTCOME_OF_REASON: Record<UnavailableReason, CallOutcome> = {
  circuit_open: 'rejected_breaker',
  saturated: 'rejected_bulkhead',
  timeout: 'timeout',
  unreachable: 'failure',
  server_error: 'failure',
  connection_lost: 'failure',
};

/**
 * The outcome of a call that threw. Only an unavailable dependency is a failure of the call: any other
 * error (an SQL error, a refusal the caller must interpret) means the dependency answered.
 */
export function callOutcome(error: unknown): CallOutcome {
  return error instanceof DependencyUnavailableError ? OUTCOME_OF_REASON[error.reason] : 'success';
}

/** `METRICS_DISK_PATHS` (`data=/var/lib/x,logs=/var/log/x`; a bare path is named after its last part) as [name, path] pairs. */
export function diskPathsFrom(setting: string): [string, string][] {
  return setting
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf('=');
      return at > 0
        ? [entry.slice(0, at).trim(), entry.slice(at + 1).trim()]
        : [basename(resolve(entry)), entry];
    });
}

/** One HTTP request a client sent, as `http_client_request_duration_seconds` labels it. */
export interface ClientRequest {
  method: string;
  serverAddress: string;
  serverPort: number;
  /** Absent when no answer came. */
  statusCode?: number;
  /** The status code of a 4xx or 5xx, or why no answer came. */
  errorType?: string;
}

/** What a dependency client reports of each of its calls. */
export interface CallRecorder {
  /**
   * Starts a dependency's counts at zero, every outcome, and its call-time histogram: its first failures
   * then have an earlier sample for a rate to be taken from (Prometheus's instrumentation guide: export
   * known label sets from the start).
   */
  knowDependency(dependency: string): void;
  recordCall(dependency: string, outcome: CallOutcome, seconds: number): void;
  /** One HTTP request sent to a dependency: a call may send none (refused by its breaker or bulkhead). */
  recordClientRequest(request: ClientRequest, seconds: number): void;
  /** Counts a call refused because the database pool and its wait queue were full. */
  recordPoolRejection(): void;
}

export interface BreakerSource {
  readonly name: string;
  readonly breakerState: 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'ISOLATED';
}

export interface PoolSource {
  stats(): { max: number; active: number; idle: number; waiting: number };
}

type ServerRequestLabels = Partial<
  Record<(typeof Metrics.httpServerRequestDuration.labelNames)[number], string | number>
>;

const BREAKER_VALUE = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2, ISOLATED: 2 } as const;

/** Seconds; from a fast cached read to a request that waited on a slow dependency. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The metrics every service on the platform exposes at `GET /metrics` (docs/architecture.md section 7), under the
 * names that alert rules, dashboards and triage rely on. Domains add their own to `registry`.
 * Sources (breakers, the pool, disks) are read when scraped, so a scrape always tells the present.
 */
export class PlatformMetrics implements CallRecorder {
  #scraping: Promise<string> | undefined;
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'route' | 'status_code'>;
  readonly #requestDuration: Histogram<'method' | 'route' | 'status_class'>;
  readonly #serverDuration: Histogram<(typeof Metrics.httpServerRequestDuration.labelNames)[number]>;
  readonly #clientDuration: Histogram<(typeof Metrics.httpClientRequestDuration.labelNames)[number]>;
  readonly #calls: Counter<'dependency' | 'outcome'>;
  readonly #callDuration: Histogram<'dependency'>;
  readonly #poolRejected: Counter;
  readonly #shed: Counter<'reason'>;
  readonly #breakers: BreakerSource[] = [];
  /** Disk label (`data`, `logs`) → the path whose filesystem it reports. */
  readonly #diskPaths = new Map<string, string>();
  readonly #recording: boolean;
  #pool: PoolSource | undefined;

  /**
   * `recording: false` (METRICS_ENABLED=false) leaves out the per-request and per-call work and
   * prom-client's collectors: what `npm run bench` compares against to price the metrics.
   */
  constructor(service: string, options: { recording?: boolean } = {}) {
    const registers = [this.registry];
    this.#recording = options.recording ?? true;
    this.registry.setDefaultLabels({ [SERVICE_LABEL]: service });
    if (this.#recording) collectDefaultMetrics({ register: this.registry });
    // prom-client names three gauges `*_total`, a suffix Prometheus keeps for counters (promtool refuses
    // them); one gauge under a lint-clean name takes their place.
    for (const kind of ['handles', 'requests', 'resources']) {
      this.registry.removeSingleMetric(`nodejs_active_${kind}_total`);
      this.registry.removeSingleMetric(`nodejs_active_${kind}`);
    }
    new Gauge({
      ...Metrics.activeResources,
      registers,
      collect() {
        this.set(process.getActiveResourcesInfo().length);
      },
    });
    this.#requests = new Counter({
      ...Metrics.httpRequests,
      registers,
    });
    this.#requestDuration = new Histogram({
      ...Metrics.httpRequestDuration,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#serverDuration = new Histogram({
      ...Metrics.httpServerRequestDuration,
      buckets: ADVISED_DURATION_BUCKETS,
      registers,
    });
    this.#clientDuration = new Histogram({
      ...Metrics.httpClientRequestDuration,
      buckets: ADVISED_DURATION_BUCKETS,
      registers,
    });
    this.#calls = new Counter({
      ...Metrics.dependencyCalls,
      registers,
    });
    this.#callDuration = new Histogram({
      ...Metrics.dependencyCallDuration,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#poolRejected = new Counter({
      ...Metrics.poolRejected,
      registers,
    });
    this.#shed = new Counter({
      ...Metrics.requestsShed,
      registers,
    });
    // Every reason from the start: the first refusals have an earlier sample to be a rate against.
    for (const reason of SHED_REASONS) this.#shed.inc({ reason }, 0);
    const breakers = this.#breakers;
    new Gauge({
      ...Metrics.breakerState,
      registers,
      collect() {
        for (const breaker of breakers)
          this.set({ dependency: breaker.name }, BREAKER_VALUE[breaker.breakerState]);
      },
    });
    const pool = () => this.#pool?.stats();
    new Gauge({
      ...Metrics.poolConnections,
      registers,
      collect() {
        const stats = pool();
        if (!stats) return;
        for (const state of ['active', 'idle', 'waiting'] as const) this.set({ state }, stats[state]);
      },
    });
    new Gauge({
      ...Metrics.poolMaxConnections,
      registers,
      collect() {
        const stats = pool();
        if (stats) this.set(stats.max);
      },
    });
    new Gauge({
      ...Metrics.memoryAvailable,
      registers,
      collect() {
        this.set(process.availableMemory());
      },
    });
    new Gauge({
      ...Metrics.memoryTotal,
      registers,
      collect() {
        this.set(Math.min(process.constrainedMemory() || Number.POSITIVE_INFINITY, totalmem()));
      },
    });
    const diskPaths = this.#diskPaths;
    const disk = (
      metric: typeof Metrics.diskFree | typeof Metrics.diskSize,
      read: (s: { bsize: number; bavail: number; blocks: number }) => number,
    ) =>
      new Gauge({
        ...metric,
        registers,
        async collect() {
          await Promise.all(
            [...diskPaths].map(async ([label, path]) => {
              const stats = await statfs(path).catch(() => undefined);
              if (stats) this.set({ path: label }, read(stats));
            }),
          );
        },
      });
    disk(Metrics.diskFree, (s) => s.bavail * s.bsize);
    disk(Metrics.diskSize, (s) => s.blocks * s.bsize);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * `route` is the route pattern, undefined when none matched (`unmatched` in the project's names, no
   * `http_route` in the conventions'); `scheme` is the request's, `http` or `https`.
   */
  recordRequest(
    method: string,
    route: string | undefined,
    statusCode: number,
    seconds: number,
    scheme: 'http' | 'https' = 'http',
  ): void {
    if (!this.#recording) return;
    const pattern = route ?? 'unmatched';
    // A method outside RFC 9110's (and PATCH) is `_OTHER` under every name: a client's WebDAV verbs
    // (MKCOL, LOCK, ...) add no series.
    const known = requestMethod(method);
    this.#requests.inc({ method: known, route: pattern, status_code: statusCode });
    this.#requestDuration.observe(
      { method: known, route: pattern, status_class: `${Math.floor(statusCode / 100)}xx` },
      seconds,
    );
    const labels: ServerRequestLabels = {
      http_request_method: known,
      http_response_status_code: statusCode,
      url_scheme: scheme,
    };
    if (route !== undefined) labels.http_route = route;
    const errorType = serverErrorType(statusCode);
    if (errorType !== undefined) labels.error_type = errorType;
    this.#serverDuration.observe(labels, seconds);
  }

  recordClientRequest(request: ClientRequest, seconds: number): void {
    if (!this.#recording) return;
    this.#clientDuration.observe(
      {
        http_request_method: requestMethod(request.method),
        server_address: request.serverAddress,
        server_port: request.serverPort,
        ...(request.statusCode === undefined ? {} : { http_response_status_code: request.statusCode }),
        ...(request.errorType === undefined ? {} : { error_type: request.errorType }),
      },
      seconds,
    );
  }

  knowDependency(dependency: string): void {
    if (!this.#recording) return;
    for (const outcome of CALL_OUTCOMES) this.#calls.inc({ dependency, outcome }, 0);
    this.#callDuration.zero({ dependency });
  }

  recordCall(dependency: string, outcome: CallOutcome, seconds: number): void {
    if (!this.#recording) return;
    this.#calls.inc({ dependency, outcome });
    this.#callDuration.observe({ dependency }, seconds);
  }

  recordPoolRejection(): void {
    if (!this.#recording) return;
    this.#poolRejected.inc();
  }

  /** Shed requests are counted whether or not per-request metrics are recorded: they are what overload looks like. */
  recordShed(reason: string): void {
    this.#shed.inc({ reason });
  }

  /** A route's admission limit and the requests it let in, read at each scrape. */
  watchAdmission(route: string, admission: { readonly limit: number; readonly inFlight: number }): void {
    new Gauge({
      ...Metrics.admissionLimit,
      registers: [this.registry],
      collect() {
        this.set({ route }, admission.limit);
      },
    });
    new Gauge({
      ...Metrics.admissionInFlight,
      registers: [this.registry],
      collect() {
        this.set({ route }, admission.inFlight);
      },
    });
  }

  /**
   * The log shipper's lines dropped and bytes held, because its collector could not take them, and its
   * connections lost; the counts from 0.
   */
  watchLogShipper(shipper: {
    readonly droppedLines: number;
    readonly heldBytes: number;
    readonly connectionsLost: number;
  }): void {
    new Gauge({
      ...Metrics.logHeldBytes,
      registers: [this.registry],
      collect() {
        this.set(shipper.heldBytes);
      },
    });
    const counter = (
      metric: typeof Metrics.logLinesDropped | typeof Metrics.logConnectionsLost,
      read: () => number,
    ) => {
      let counted = 0;
      new Counter({
        ...metric,
        registers: [this.registry],
        collect() {
          this.inc(read() - counted);
          counted = read();
        },
      });
    };
    counter(Metrics.logLinesDropped, () => shipper.droppedLines);
    counter(Metrics.logConnectionsLost, () => shipper.connectionsLost);
  }

  watchBreaker(breaker: BreakerSource): void {
    this.#breakers.push(breaker);
  }

  watchPool(pool: PoolSource): void {
    this.#pool = pool;
  }

  /**
   * Reports free and total space of the filesystem of `path`, under the label `path="<name>"`: a name,
   * not the path itself, since no response of a service carries a file path.
   */
  watchDisk(name: string, path: string): void {
    this.#diskPaths.set(name, path);
  }

  /** The value of the first sample of `name` whose labels include `labels`; undefined when there is none. */
  async valueOf(name: string, labels: Record<string, string | number> = {}): Promise<number | undefined> {
    const metric = await this.registry.getSingleMetric(name)?.get();
    const wanted = Object.entries(labels);
    return metric?.values.find((v) => {
      const actual = v.labels as Record<string, string | number | undefined>;
      return wanted.every(([key, value]) => actual[key] === value);
    })?.value;
  }

  /**
   * The Prometheus text exposition of every metric. Scrapes asked for while one is being made share it:
   * a flood of `/metrics` (never shed, so that overload is watched) costs one exposition at a time, not
   * one each, and never starves the event loop the readiness checks need. A scrape asked for after one
   * ended gets a new one: nothing served is older than the request.
   */
  scrape(): Promise<string> {
    this.#scraping ??= this.registry.metrics().finally(() => {
      this.#scraping = undefined;
    });
    return this.#scraping;
  }
}
