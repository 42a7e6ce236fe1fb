import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { readBalancerConfig } from './balancerConfig.ts';
import { mayHoldBalancerLines } from './balancerSniff.ts';
import type { Gathered } from './diagnose.ts';
import { LogEvidence } from './LogEvidence.ts';
import { fetchBounded, isUrl, MAX_HEALTH_BYTES, MAX_SCRAPE_BYTES, readSavedScrape } from './liveSources.ts';
import {
  DEFAULT_READ_LIMITS,
  type LogSource,
  type ReadLimits,
  readLog,
  resolveLogSources,
} from './logSources.ts';
import {
  isHealthReport,
  type MetricFinding,
  type Resource,
  readHealth,
  readScrape,
  usableSample,
} from './MetricsEvidence.ts';
import { parsePrometheusText } from './prometheusText.ts';
import type { SourceRead } from './report.ts';

export interface Sources {
  logs: string[];
  metrics: string[];
  health: string[];
  /** Lines older than this (epoch ms) are not read as failures. */
  since?: number;
  /** The load balancer's configuration, and the environment its `"${NAME-default}"` values come from. */
  haproxyConfig?: string;
  haproxyEnv?: NodeJS.ProcessEnv;
}

export interface GatherOptions {
  limits?: ReadLimits;
  /** Ends the reading where it is (the run's --timeout): what was read by then is reported. */
  signal?: AbortSignal;
  stdin?: Readable;
}

/**
 * Reads every source: logs streamed line by line, metrics and health fetched (meanwhile, each on its own
 * short timeout) or read from saved files. Every source ends up in `read.sources` with what became of it.
 */
export async function gather(sources: Sources, options: GatherOptions = {}): Promise<Gathered> {
  const { signal } = options;
  const logs = new LogEvidence({ since: sources.since });
  type LiveRead = SourceRead & { resources?: Resource[]; findings?: MetricFinding[] };
  const live = Promise.all([
    ...sources.metrics.map(async (source): Promise<LiveRead> => {
      const got = isUrl(source)
        ? await fetchBounded(source, MAX_SCRAPE_BYTES, signal)
        : await readSavedScrape(source);
      if (!('text' in got)) return { kind: 'metrics', source, ...got };
      if (got.status < 200 || got.status > 299)
        return {
          kind: 'metrics',
          source,
          state: 'unreachable',
          reason: 'http_status',
          detail: `answered ${got.status}`,
        };
      const samples = parsePrometheusText(got.text);
      const usable = samples.filter(usableSample).length;
      if (usable === 0)
        return {
          kind: 'metrics',
          source,
          state: 'unreadable',
          reason: 'not_a_scrape',
          detail: samples.length ? `no usable sample of ${samples.length}` : 'no samples',
        };
      return { kind: 'metrics', source, state: 'read', samples: usable, ...readScrape(source, samples) };
    }),
    ...sources.health.map(async (source): Promise<LiveRead> => {
      const got = await fetchBounded(source, MAX_HEALTH_BYTES, signal);
      if (!('text' in got)) return { kind: 'health', source, ...got };
      let body: unknown;
      try {
        body = JSON.parse(got.text);
      } catch {}
      if (!isHealthReport(body))
        return {
          kind: 'health',
          source,
          state: 'unreadable',
          reason: 'not_a_health_report',
          detail: `answered ${got.status}, not a health report`,
        };
      return { kind: 'health', source, state: 'read', findings: readHealth(source, got.status, body) };
    }),
  ]);

  // Awaited after the logs are read; a rejection meanwhile is handled there, not left unhandled.
  live.catch(() => {});
  const logReads: SourceRead[] = [];
  const limits = options.limits ?? DEFAULT_READ_LIMITS;
  const resolved: LogSource[][] = [];
  for (const argument of sources.logs) resolved.push(await resolveLogSources(argument));
  // The instances' lines wait for their twin in HAProxy's log only when one is among the sources.
  const balancer = await Promise.all(resolved.flat().map((source) => mayHoldBalancerLines(source)));
  logs.edge.joining = balancer.some(Boolean);
  for (const [index, argument] of sources.logs.entries()) {
    const found = resolved[index] ?? [];
    // A directory of no log files was still given: it is a blind spot, not "no logs given".
    if (found.length === 0)
      logReads.push({
        kind: 'logs',
        source: argument,
        state: 'skipped',
        reason: 'not_found',
        detail: 'a directory with no *.log or *.log.gz file',
        lines: 0,
      });
    for (const source of found) {
      const where = source.path ?? source.name;
      const before = logs.passedOver.total;
      const outcome = await readLog(
        source,
        {
          line: (text, lineNo) => logs.add(source.name, lineNo, text),
          cut: (lineNo) => logs.cutLine(source.name, lineNo),
          blank: (_, count) => logs.blankLines(count),
        },
        { limits, signal, stdin: options.stdin },
      );
      logReads.push({
        kind: 'logs',
        source: where,
        ...outcome,
        passedOver: logs.passedOver.total - before,
      });
    }
  }
  // In the order the sources were given, whichever answered first: the same sources, the same report.
  const resources: Resource[] = [];
  const findings: MetricFinding[] = [];
  const liveReads: SourceRead[] = [];
  for (const { resources: found = [], findings: said = [], ...read } of await live) {
    resources.push(...found);
    findings.push(...said);
    liveReads.push(read);
  }
  const all = [...logReads, ...liveReads];
  const balancerConfig = sources.haproxyConfig
    ? await readBalancerConfig(sources.haproxyConfig, sources.haproxyEnv ?? process.env)
    : undefined;
  const unreachable = liveReads.filter((r) => r.state === 'unreachable').map((r) => r.source);
  return {
    logs,
    resources,
    findings,
    now: new Date(),
    ...(balancerConfig ? { balancerConfig } : {}),
    read: {
      logFiles: logReads.filter((r) => r.state === 'read' || r.state === 'partial').map((r) => r.source),
      logLines: logs.lines,
      metrics: liveReads.filter((r) => r.kind === 'metrics' && r.state === 'read').map((r) => r.source),
      health: liveReads.filter((r) => r.kind === 'health' && r.state === 'read').map((r) => r.source),
      unreachable,
      sources: all,
      passedOver: logs.passedOver,
      timedOut: Boolean(signal?.aborted) && all.some((r) => r.reason === 'timeout'),
    },
  };
}

/** The local stack's sources, from the stack.json that `steadfast start` writes. */
export async function localStackSources(dataDir: string): Promise<Sources> {
  const info = JSON.parse(await readFile(join(dataDir, 'stack.json'), 'utf8')) as {
    inventoryUrl: string;
    paymentUrl: string;
    instances: { url: string; managementUrl?: string }[];
  };
  // Behind HAProxy each instance's metrics and the health its balancer checks are on its management listener.
  const checkouts = info.instances.map((instance) => instance.managementUrl ?? instance.url);
  // The configuration `steadfast start` wrote for HAProxy, when it runs one.
  const haproxyConfig = join(dataDir, 'haproxy', 'haproxy.cfg');
  const balanced = await stat(haproxyConfig).then(
    (s) => s.isFile(),
    () => false,
  );
  return {
    ...(balanced ? { haproxyConfig } : {}),
    logs: [join(dataDir, 'logs')],
    metrics: [...checkouts, info.inventoryUrl, info.paymentUrl].map((url) => `${url}/metrics`),
    health: checkouts.map((url) => `${url}/health`),
  };
}
