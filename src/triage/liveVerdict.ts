import { type FileHandle, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { FIXES } from './advice.ts';
import { diagnose } from './diagnose.ts';
import { LogEvidence } from './LogEvidence.ts';
import { fetchBounded, MAX_HEALTH_BYTES, MAX_SCRAPE_BYTES } from './liveSources.ts';
import {
  isHealthReport,
  type MetricFinding,
  type Resource,
  readHealth,
  readScrape,
  usableSample,
} from './MetricsEvidence.ts';
import { parsePrometheusText, type Sample } from './prometheusText.ts';
import { openRegularFile } from './regularFile.ts';
import type { SourceRead, TriageReport } from './report.ts';

/**
 * Triage's verdict on a running service, for its dashboard: the same reading of metrics, health and logs
 * and the same decision tree as `steadfast triage`, on the service's own evidence (its scrape and health,
 * read in process; the tail of its log file when it writes one) and its peers' `/metrics` and `/health`.
 *
 * A dashboard asks for "now", so counters are read as their increase over the last `windowMs` (at the
 * first reading: since the process started), and only that window of the log: a fault that healed an
 * hour ago is not today's verdict. It runs at most once per `intervalMs`, one run at a time, within
 * `budgetMs`; readers get the last verdict at once and never wait for a run.
 */
export interface LiveEvidence {
  /** This service's scrape (Prometheus text), read in process. */
  scrape: () => Promise<string>;
  /** This service's `/health`, read in process. */
  health?: () => Promise<{ status: number; body: unknown }>;
  /** The service's own log file (LOG_FILE), when it writes one: its newest rotation is read from the end. */
  logFile?: string;
  /** Base URLs of the services it works with, whose `/metrics` and `/health` are read. */
  peers?: readonly string[];
}

export interface LiveVerdictOptions {
  intervalMs: number;
  budgetMs: number;
  windowMs: number;
  /** How much of the end of the log file is read each run. */
  logTailBytes: number;
  now: () => number;
}

export const DEFAULT_LIVE_OPTIONS: LiveVerdictOptions = {
  intervalMs: 5000,
  budgetMs: 2000,
  windowMs: 60_000,
  logTailBytes: 2 ** 20,
  now: Date.now,
};

/** What the dashboard's headline shows. */
export interface LiveVerdictSnapshot {
  status: TriageReport['status'];
  headline: string;
  category?: string;
  /** The root cause in words, and what it concerns (a dependency, a resource). */
  cause?: string;
  subject?: string;
  /** When this cause began: the first failure in the logs read, or the first run that found it. */
  since?: string;
  /** The first thing to do: the article's fix for the category. */
  firstAction?: string;
  runbook?: string;
  /** The rest of what the cause explains, in words. */
  symptoms: string[];
  checkedAt: string;
  tookMs: number;
  /** What was read, and what was not (the peers that did not answer). */
  read: { metrics: number; health: number; logLines: number; notRead: string[] };
}

/** A run of triage failed (a bug of its own): the dashboard says so rather than show an old verdict. */
const FAILED_HEADLINE = 'UNKNOWN: triage failed on this instance';
/** Lines of the log past this long are passed over: a service's own lines are far shorter. */
const MAX_LINE = 256 * 1024;
/** Lines fed to the evidence before the run yields to the event loop: the service keeps answering. */
const LINES_PER_SLICE = 500;
const SELF = 'this instance';

type Counters = Map<string, number>;

export class LiveVerdict {
  readonly #evidence: LiveEvidence;
  readonly #options: LiveVerdictOptions;
  #last: LiveVerdictSnapshot | undefined;
  #running: Promise<void> | undefined;
  #lastRunAt = Number.NEGATIVE_INFINITY;
  /** Each source's counters at each run, oldest first: the window's baseline is the oldest within it. */
  readonly #history = new Map<string, { at: number; counters: Counters }[]>();
  /** The cause of the previous run and when it was first seen: "since" outlives the window. */
  #cause: { key: string; since: number } | undefined;

  constructor(evidence: LiveEvidence, options: Partial<LiveVerdictOptions> = {}) {
    this.#evidence = evidence;
    this.#options = { ...DEFAULT_LIVE_OPTIONS, ...options };
  }

  /** The last verdict (undefined before the first run ends), starting a run when it is due. */
  current(): LiveVerdictSnapshot | undefined {
    if (!this.#running && this.#options.now() - this.#lastRunAt >= this.#options.intervalMs) {
      this.#lastRunAt = this.#options.now();
      this.#running = this.#run().finally(() => {
        this.#running = undefined;
      });
    }
    return this.#last;
  }

  /** Runs now, unless a run is under way (then waits for it): for tests and a first verdict. */
  async refresh(): Promise<LiveVerdictSnapshot | undefined> {
    if (!this.#running) {
      this.#lastRunAt = this.#options.now();
      this.#running = this.#run().finally(() => {
        this.#running = undefined;
      });
    }
    await this.#running;
    return this.#last;
  }

  async #run(): Promise<void> {
    const started = performance.now();
    const at = this.#options.now();
    try {
      const report = await this.#triage(at, AbortSignal.timeout(this.#options.budgetMs));
      this.#last = this.#snapshot(report, at, performance.now() - started);
    } catch (error) {
      this.#last = {
        status: 'unknown',
        headline: `${FAILED_HEADLINE}: ${String((error as Error)?.message ?? error).slice(0, 200)}`,
        symptoms: [],
        checkedAt: new Date(at).toISOString(),
        tookMs: Math.round(performance.now() - started),
        read: { metrics: 0, health: 0, logLines: 0, notRead: [] },
      };
    }
  }

  async #triage(at: number, signal: AbortSignal): Promise<TriageReport> {
    const since = at - this.#options.windowMs;
    const logs = new LogEvidence({ since });
    const resources: Resource[] = [];
    const findings: MetricFinding[] = [];
    const sources: SourceRead[] = [];
    const peers = this.#evidence.peers ?? [];
    const scrapes = Promise.all([
      this.#evidence.scrape().then(
        (text) => ({ source: `${SELF} /metrics`, text, status: 200 }),
        (error: Error) => ({
          source: `${SELF} /metrics`,
          state: 'unreadable' as const,
          reason: 'read_error' as const,
          detail: error.message,
        }),
      ),
      ...peers.map(async (peer) => ({
        source: `${peer}/metrics`,
        ...(await fetchBounded(`${peer}/metrics`, MAX_SCRAPE_BYTES, signal)),
      })),
    ]);
    const healths = Promise.all([
      ...(this.#evidence.health
        ? [
            this.#evidence.health().then(
              (answer) => ({ source: `${SELF} /health`, ...answer }),
              (error: Error) => ({
                source: `${SELF} /health`,
                state: 'unreadable' as const,
                reason: 'read_error' as const,
                detail: error.message,
              }),
            ),
          ]
        : []),
      ...peers.map(async (peer) => {
        const got = await fetchBounded(`${peer}/health`, MAX_HEALTH_BYTES, signal);
        if (!('text' in got)) return { source: `${peer}/health`, ...got };
        let body: unknown;
        try {
          body = JSON.parse(got.text);
        } catch {}
        return { source: `${peer}/health`, status: got.status, body };
      }),
    ]);
    // Read while the others answer.
    if (this.#evidence.logFile) sources.push(await this.#readLogTail(this.#evidence.logFile, logs, signal));

    for (const got of await scrapes) {
      if (!('text' in got)) {
        sources.push({ kind: 'metrics', ...got });
        continue;
      }
      if (got.status < 200 || got.status > 299) {
        sources.push({
          kind: 'metrics',
          source: got.source,
          state: 'unreachable',
          reason: 'http_status',
          detail: `answered ${got.status}`,
        });
        continue;
      }
      const samples = this.#windowed(got.source, parsePrometheusText(got.text), at).filter(usableSample);
      if (samples.length === 0) {
        sources.push({ kind: 'metrics', source: got.source, state: 'unreadable', reason: 'not_a_scrape' });
        continue;
      }
      const read = readScrape(got.source, samples);
      resources.push(...read.resources);
      findings.push(...read.findings);
      sources.push({ kind: 'metrics', source: got.source, state: 'read', samples: samples.length });
    }
    for (const got of await healths) {
      if (!('body' in got)) {
        sources.push({ kind: 'health', ...(got as Omit<SourceRead, 'kind'>) });
        continue;
      }
      if (!isHealthReport(got.body)) {
        sources.push({
          kind: 'health',
          source: got.source,
          state: 'unreadable',
          reason: 'not_a_health_report',
          detail: `answered ${got.status}`,
        });
        continue;
      }
      findings.push(...readHealth(got.source, Number(got.status), got.body));
      sources.push({ kind: 'health', source: got.source, state: 'read' });
    }
    const readOk = (kind: SourceRead['kind']) =>
      sources
        .filter((s) => s.kind === kind && (s.state === 'read' || s.state === 'partial'))
        .map((s) => s.source);
    return diagnose({
      logs,
      resources,
      findings,
      now: new Date(at),
      read: {
        logFiles: readOk('logs'),
        logLines: logs.lines,
        metrics: readOk('metrics'),
        health: readOk('health'),
        unreachable: sources.filter((s) => s.state === 'unreachable').map((s) => s.source),
        sources,
        passedOver: logs.passedOver,
        timedOut: signal.aborted,
      },
    });
  }

  /**
   * Counters (`*_total`) as their increase since the oldest reading within the window; gauges as they
   * are. A counter lower than its baseline was reset (the service restarted): its value is the increase.
   */
  #windowed(source: string, samples: Sample[], at: number): Sample[] {
    const counters: Counters = new Map();
    for (const s of samples) if (s.name.endsWith('_total')) counters.set(keyOf(s), s.value);
    const history = this.#history.get(source) ?? [];
    while (history.length > 1 && (history[1] as { at: number }).at <= at - this.#options.windowMs)
      history.shift();
    const baseline = history[0]?.counters;
    history.push({ at, counters });
    // One reading per run: a bounded history, whatever the interval.
    if (history.length > 2 + Math.ceil(this.#options.windowMs / this.#options.intervalMs)) history.shift();
    this.#history.set(source, history);
    if (!baseline) return samples;
    return samples.map((s) => {
      if (!s.name.endsWith('_total')) return s;
      const before = baseline.get(keyOf(s)) ?? 0;
      return { ...s, value: s.value >= before ? s.value - before : s.value };
    });
  }

  /** The end of the newest file of the log: whole lines from the last `logTailBytes`, a slice at a time. */
  async #readLogTail(logFile: string, logs: LogEvidence, signal: AbortSignal): Promise<SourceRead> {
    const path = await newestRotation(logFile);
    const name = basename(path);
    const opened = await openRegularFile(path);
    if (!('handle' in opened))
      return {
        kind: 'logs',
        source: path,
        state: ['not_a_file', 'dangling_link', 'link_loop', 'not_found'].includes(opened.reason)
          ? 'skipped'
          : 'unreadable',
        ...opened,
        lines: 0,
      };
    const handle: FileHandle = opened.handle;
    try {
      const { size } = await handle.stat();
      const from = Math.max(0, size - this.#options.logTailBytes);
      const buffer = Buffer.alloc(size - from);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
      const lines = buffer.toString('utf8', 0, bytesRead).split('\n');
      // A tail that starts inside a line drops that line's end; the last is the line being written.
      if (from > 0) lines.shift();
      lines.pop();
      let lineNo = 0;
      for (const text of lines) {
        lineNo++;
        if (signal.aborted)
          return {
            kind: 'logs',
            source: path,
            state: 'partial',
            reason: 'timeout',
            lines: lineNo - 1,
            passedOver: logs.passedOver.total,
          };
        if (text.length > MAX_LINE) logs.cutLine(name, lineNo);
        else if (text.trim() === '') logs.blankLines(1);
        else logs.add(name, lineNo, text);
        if (lineNo % LINES_PER_SLICE === 0) await yieldToLoop();
      }
      return { kind: 'logs', source: path, state: 'read', lines: lineNo, passedOver: logs.passedOver.total };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { kind: 'logs', source: path, state: 'partial', reason: 'read_error', detail: code ?? '' };
    } finally {
      await handle.close();
    }
  }

  #snapshot(report: TriageReport, at: number, tookMs: number): LiveVerdictSnapshot {
    const { cause } = report;
    const key = cause ? `${cause.category}:${cause.kind}:${cause.subject ?? ''}` : undefined;
    const found = cause?.first
      ? Date.parse(cause.first)
      : report.when.firstFailure
        ? Date.parse(report.when.firstFailure)
        : at;
    if (!key) this.#cause = undefined;
    else if (this.#cause?.key !== key) this.#cause = { key, since: found };
    else this.#cause.since = Math.min(this.#cause.since, found);
    const notRead = report.read.sources
      .filter((s) => s.state !== 'read')
      .map((s) => `${s.source} (${s.state}${s.reason ? `: ${s.reason}` : ''})`);
    return {
      status: report.status,
      headline: report.headline,
      ...(cause
        ? {
            category: cause.category,
            cause: cause.summary,
            subject: cause.subject,
            since: new Date(this.#cause?.since ?? at).toISOString(),
            firstAction: FIXES[cause.category].fix,
            runbook: report.advice?.runbook,
          }
        : {}),
      symptoms: report.symptoms.slice(0, 5).map((s) => s.summary),
      checkedAt: new Date(at).toISOString(),
      tookMs: Math.round(tookMs),
      read: {
        metrics: report.read.metrics.length,
        health: report.read.health.length,
        logLines: report.read.logLines,
        notRead,
      },
    };
  }
}

function keyOf(sample: Sample): string {
  return `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
}

/**
 * The file a rotating logger writes now: `checkout.log` itself, or its newest numbered rotation
 * (`checkout.3.log`, as pino-roll names them), by modification time.
 */
async function newestRotation(logFile: string): Promise<string> {
  const dir = dirname(logFile);
  const extension = extname(logFile);
  const base = basename(logFile, extension);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => {
    if (name === basename(logFile)) return true;
    const number =
      name.startsWith(`${base}.`) && name.endsWith(extension)
        ? name.slice(base.length + 1, name.length - extension.length)
        : '';
    return /^\d{1,9}$/.test(number);
  });
  let newest = { path: logFile, mtime: Number.NEGATIVE_INFINITY };
  for (const name of names.slice(0, 1000)) {
    const path = join(dir, name);
    const mtime = (await stat(path).catch(() => undefined))?.mtimeMs;
    if (mtime !== undefined && mtime > newest.mtime) newest = { path, mtime };
  }
  return newest.path;
}
