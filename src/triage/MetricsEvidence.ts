import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { Metrics, NodeMetrics } from '../contract/metrics.ts';
import type { SignalKind } from './LogEvidence.ts';
import type { Sample } from './prometheusText.ts';

/** A resource as current against its maximum, from one scrape. */
export interface Resource {
  name: string;
  source: string;
  current: number;
  max?: number;
  unit: 'connections' | 'bytes' | 'descriptors' | 'seconds';
  exhausted: boolean;
}

/** What a scrape says now, without a time: an open breaker, requests shed, a pool full. */
export interface MetricFinding {
  kind: SignalKind;
  subject?: string;
  source: string;
  value: number;
  /** True when value counts events (requests shed, calls failed), false when it is a state. */
  counted: boolean;
  summary: string;
}

const SHARE_EXHAUSTED = 0.9;
/** A scrape names a handful of dependencies and disks; past this many, the rest are not read. */
const MAX_PER_KIND = 20;
const DISK_EXHAUSTED = 0.95;
const EVENT_LOOP_SLOW_SECONDS = 1;

/**
 * A value triage can compute with: finite, and no larger than a count or a byte size can be (2^53).
 * `+Inf`, `NaN` and the like are legal in a scrape, but say nothing about a resource: passed over.
 */
export function usableSample(sample: Sample): boolean {
  return Number.isFinite(sample.value) && Math.abs(sample.value) <= Number.MAX_SAFE_INTEGER;
}

/** Reads one service's scrape for resources and findings; samples that are not usable are passed over. */
export function readScrape(
  source: string,
  scraped: Sample[],
): { resources: Resource[]; findings: MetricFinding[] } {
  const samples = scraped.filter(usableSample);
  const one = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      ?.value;
  const all = (name: string) => samples.filter((s) => s.name === name).slice(0, MAX_PER_KIND);
  const sum = (name: string, keep: (s: Sample) => boolean = () => true) =>
    all(name)
      .filter(keep)
      .reduce((total, s) => total + s.value, 0);
  const service = samples[0]?.labels.service;
  const where = service ? `${service} (${source})` : source;
  const resources: Resource[] = [];
  const findings: MetricFinding[] = [];

  const active = one(Metrics.poolConnections.name, { state: 'active' });
  const poolMax = one(Metrics.poolMaxConnections.name);
  if (active !== undefined && poolMax !== undefined) {
    const waiting = one(Metrics.poolConnections.name, { state: 'waiting' }) ?? 0;
    resources.push({
      name: `database pool (${waiting} waiting)`,
      source: where,
      current: active,
      max: poolMax,
      unit: 'connections',
      exhausted: active >= poolMax,
    });
  }
  const rejected = one(Metrics.poolRejected.name) ?? 0;
  if (rejected > 0) {
    findings.push({
      kind: 'pool_saturated',
      subject: 'database',
      source: where,
      value: rejected,
      counted: true,
      summary: `${Metrics.poolRejected.name} ${rejected}: database calls refused, every connection busy and the queue full`,
    });
  }
  const memoryTotal = one(Metrics.memoryTotal.name);
  const memoryAvailable = one(Metrics.memoryAvailable.name);
  if (memoryTotal && memoryAvailable !== undefined) {
    resources.push({
      name: 'memory',
      source: where,
      current: memoryTotal - memoryAvailable,
      max: memoryTotal,
      unit: 'bytes',
      exhausted: memoryAvailable / memoryTotal < 1 - SHARE_EXHAUSTED,
    });
  }
  const fds = one(NodeMetrics.openFds);
  const maxFds = one(NodeMetrics.maxFds);
  if (fds !== undefined && maxFds) {
    resources.push({
      name: 'file descriptors',
      source: where,
      current: fds,
      max: maxFds,
      unit: 'descriptors',
      exhausted: fds / maxFds >= SHARE_EXHAUSTED,
    });
  }
  for (const size of all(Metrics.diskSize.name)) {
    const free = one(Metrics.diskFree.name, { path: size.labels.path ?? '' });
    if (free === undefined || !size.value) continue;
    resources.push({
      name: `disk ${size.labels.path}`,
      source: where,
      current: size.value - free,
      max: size.value,
      unit: 'bytes',
      exhausted: (size.value - free) / size.value >= DISK_EXHAUSTED,
    });
  }
  const lag = one(NodeMetrics.eventLoopLagP99);
  if (lag !== undefined) {
    resources.push({
      name: 'event loop delay p99',
      source: where,
      current: lag,
      unit: 'seconds',
      exhausted: lag >= EVENT_LOOP_SLOW_SECONDS,
    });
  }
  const kinds: Record<string, SignalKind> = {
    memory: 'memory',
    'file descriptors': 'file_descriptors',
    'event loop delay p99': 'event_loop',
  };
  for (const resource of resources.filter((r) => r.exhausted)) {
    const kind = resource.name.startsWith('database pool')
      ? 'pool_saturated'
      : resource.name.startsWith('disk')
        ? 'disk'
        : (kinds[resource.name] ?? 'memory');
    findings.push({
      kind,
      subject: kind === 'pool_saturated' ? 'database' : resource.name,
      source: where,
      value: resource.current,
      counted: false,
      summary: `${resource.name} at ${resource.current}${resource.max !== undefined ? ` of ${resource.max}` : ''}`,
    });
  }

  for (const breaker of all(Metrics.breakerState.name).filter((s) => s.value === 2)) {
    findings.push({
      kind: 'breaker_open',
      subject: breaker.labels.dependency,
      source: where,
      value: 2,
      counted: false,
      summary: `${Metrics.breakerState.name}{dependency="${breaker.labels.dependency}"} 2: open, calls fail fast`,
    });
  }
  const shed = Math.round(sum(Metrics.requestsShed.name, (s) => s.value > 0));
  if (shed > 0) {
    const reasons = all(Metrics.requestsShed.name)
      .filter((s) => s.value > 0)
      .map((s) => `${s.labels.reason} ${s.value}`)
      .join(', ');
    findings.push({
      kind: 'overload',
      subject: service,
      source: where,
      value: shed,
      counted: true,
      summary: `${Metrics.requestsShed.name} ${shed} (${reasons}): requests refused at the door`,
    });
  }
  // Shed because the V8 heap neared its limit: the instance measured its own memory, and ran out of it.
  const shedForHeap = Math.round(sum(Metrics.requestsShed.name, (s) => s.labels.reason === 'heap_used'));
  if (shedForHeap > 0) {
    const heapUsed = one(NodeMetrics.heapUsed);
    const used = heapUsed === undefined ? '' : `, ${NodeMetrics.heapUsed} ${heapUsed}`;
    findings.push({
      kind: 'memory',
      subject: 'heap',
      source: where,
      value: shedForHeap,
      counted: true,
      summary: `${Metrics.requestsShed.name}{reason="heap_used"} ${shedForHeap}: the V8 heap is near its limit${used}`,
    });
  }
  const failedCalls = new Map<string, number>();
  for (const call of all(Metrics.dependencyCalls.name)) {
    if (call.labels.outcome !== 'failure' && call.labels.outcome !== 'timeout') continue;
    const dependency = call.labels.dependency ?? 'unknown';
    failedCalls.set(dependency, (failedCalls.get(dependency) ?? 0) + call.value);
  }
  for (const [dependency, total] of failedCalls) {
    const count = Math.round(total);
    if (count <= 0) continue;
    findings.push({
      kind: dependency === 'database' ? 'database' : 'dependency',
      subject: dependency,
      source: where,
      value: count,
      counted: true,
      summary: `${Metrics.dependencyCalls.name}{dependency="${dependency}",outcome=~"failure|timeout"} ${count}`,
    });
  }
  return { resources, findings };
}

/** The fields of a `/health` answer triage reads; any other field is left alone. */
const HealthReport = Type.Object({
  db: Type.Optional(Type.String({ maxLength: 200 })),
  circuitBreakers: Type.Optional(
    Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 50 })),
  ),
  memoryUsagePct: Type.Optional(Type.Number()),
  error: Type.Optional(Type.String()),
});
const healthReport = Compile(HealthReport);

/** True when `body` is a health answer triage can read. */
export function isHealthReport(body: unknown): body is Static<typeof HealthReport> {
  return healthReport.Check(body);
}

/** What `/health` of a live service says (checked by isHealthReport): a database it cannot reach, breakers open. */
export function readHealth(
  source: string,
  status: number,
  report: Static<typeof HealthReport>,
): MetricFinding[] {
  const findings: MetricFinding[] = [];
  if (report.db && report.db !== 'connected') {
    findings.push({
      kind: 'database',
      subject: 'database',
      source,
      value: status,
      counted: false,
      summary: `/health answered ${status}: db "${report.db}"`,
    });
  }
  // The service's own memory check (HEALTH_MEMORY_MAX_PCT of the V8 heap's limit) failed.
  const memory = /Memory usage above (\d{1,3})%/.exec((report.error ?? '').slice(0, 2000));
  if (memory && typeof report.memoryUsagePct === 'number') {
    findings.push({
      kind: 'memory',
      subject: 'heap',
      source,
      value: report.memoryUsagePct,
      counted: false,
      summary: `/health answered ${status}: heap at ${report.memoryUsagePct}% of its limit (the check fails above ${memory[1]}%)`,
    });
  }
  for (const [dependency, state] of Object.entries(report.circuitBreakers ?? {}).slice(0, MAX_PER_KIND)) {
    if (state !== 'OPEN') continue;
    findings.push({
      kind: 'breaker_open',
      subject: dependency,
      source,
      value: status,
      counted: false,
      summary: `/health answered ${status}: circuit breaker ${dependency} OPEN`,
    });
  }
  return findings;
}
