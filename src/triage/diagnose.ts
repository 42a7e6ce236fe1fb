import { ALERTS, EDGE_FIXES, FIXES, RESOURCE_RUNBOOKS } from './advice.ts';
import { DEPENDENCIES, dependencyNamed } from './dependencies.ts';
import { type DeployMarker, deployBefore, deployMarkers, describeDeploy } from './deploys.ts';
import { type BalancerConfig, type EdgeKind, edgeCandidates, edgeReport } from './edgeDiagnosis.ts';
import {
  BUCKET_MS,
  type EvidenceLine,
  LOG_DISK,
  type LogEvidence,
  type ServiceStart,
  type SignalKind,
} from './LogEvidence.ts';
import type { MetricFinding, Resource } from './MetricsEvidence.ts';
import { type Category, type Finding, SCHEMA_VERSION, type TriageReport } from './report.ts';
import { describeChange, type TemplateChange, templateChanges } from './templates.ts';
import { verdict } from './verdict.ts';

/** What triage read: log lines folded into evidence, and what the metrics and health said now. */
export interface Gathered {
  logs: LogEvidence;
  resources: Resource[];
  findings: MetricFinding[];
  read: TriageReport['read'];
  now: Date;
  /** The load balancer's configuration, when one was given or found: its `timeout server`. */
  balancerConfig?: BalancerConfig;
}

type CandidateKind = SignalKind | 'config_mismatch';

interface Candidate {
  kind: CandidateKind | EdgeKind;
  subject?: string;
  category: Category;
  /** The decision tree's order: the lower, the likelier a cause rather than a symptom. */
  rank: number;
  summary: string;
  first?: number;
  last?: number;
  count: number;
  evidence: EvidenceLine[];
}

const RANKS: Record<CandidateKind, [number, Category]> = {
  startup_failure: [1, 'misconfiguration'],
  config_mismatch: [1, 'misconfiguration'],
  schema_mismatch: [2, 'bad_deployment'],
  database: [4, 'database_failure'],
  dependency: [5, 'dependency_failure'],
  slow_statements: [6, 'resource_exhaustion'],
  db_connections: [6, 'resource_exhaustion'],
  file_descriptors: [6, 'resource_exhaustion'],
  disk: [6, 'resource_exhaustion'],
  memory: [6, 'resource_exhaustion'],
  event_loop: [6, 'resource_exhaustion'],
  overload: [7, 'overload'],
  pool_saturated: [8, 'resource_exhaustion'],
  exception: [9, 'unhandled_exception'],
  breaker_open: [10, 'dependency_failure'],
  dependency_saturated: [10, 'dependency_failure'],
};
const AFTER_DEPLOY_RANK = 3;
/** A failure this close after a start is "since start". */
const SINCE_START_MS = 30_000;
const CLOCK_SLACK_MS = 1000;

/** The article's decision tree on the gathered evidence. */
export function diagnose(gathered: Gathered): TriageReport {
  const { logs } = gathered;
  const deploys = deployMarkers(logs.starts);
  const firstFailureTime = logs.firstFailureTime;
  const deploy = firstFailureTime === undefined ? undefined : deployBefore(deploys, firstFailureTime);
  // What the logs said differently once the failure began: the evidence when no rule knows the error.
  const changes = firstFailureTime === undefined ? [] : templateChanges(logs.templates, firstFailureTime);
  const candidates = rankCandidates(gathered, deploy, changes);
  const [cause, ...rest] = candidates;
  const first = firstFailureTime ?? cause?.first;
  // The 5xx the balancer made are failures the client got that no instance logged as one.
  const edge = logs.edge.lines > 0 ? edgeReport(logs.edge, gathered.balancerConfig) : undefined;
  const seen = edgeSeen(logs, edge, first, cause?.last);
  const shape = cause ? shapeOf(logs, seen.first, deploy, seen.endpoints) : [];
  const groups = [...logs.groups.values()].sort((a, b) => b.count - a.count || a.first - b.first);
  const whenEvidence = [logs.firstFailure, deploy?.evidence].filter((e): e is EvidenceLine => Boolean(e));
  const abruptStops = logs.abruptStops.stops().map((stop) => ({
    instance: stop.instance,
    service: stop.service,
    lastLine: stop.lastLine,
    ...(stop.restartedAt !== undefined ? { restartedAt: new Date(stop.restartedAt).toISOString() } : {}),
    ...(stop.silentForMs !== undefined ? { silentForSeconds: Math.round(stop.silentForMs / 1000) } : {}),
  }));
  return {
    schemaVersion: SCHEMA_VERSION,
    generatedAt: gathered.now.toISOString(),
    ...verdict(cause, seen, gathered.read, seen.first),
    cause: cause ? { category: cause.category, ...finding(cause) } : null,
    symptoms: rest.map(finding),
    when: {
      firstFailure: iso(seen.first),
      lastFailure: iso(seen.last),
      failures: seen.failures,
      requests: seen.requests,
      shape,
      endpoints: Object.fromEntries([...seen.endpoints].sort((a, b) => b[1] - a[1])),
      deploy: deploy?.marker,
      evidence: whenEvidence,
    },
    exceptionGroups: groups.slice(0, 10).map((group) => ({
      errorClass: group.errorClass,
      frame: group.frame,
      message: group.message,
      count: group.count,
      first: new Date(group.first).toISOString(),
      last: new Date(group.last).toISOString(),
      endpoints: [...group.endpoints],
      versions: [...group.versions],
      statusCodes: [...group.statusCodes].sort(),
      sampleErrorIds: group.sampleErrorIds,
    })),
    templates: {
      changes: changes.slice(0, 10),
      clusters: logs.templates.size,
      dropped: logs.templates.dropped,
    },
    resources: [...gathered.resources].sort((a, b) => Number(b.exhausted) - Number(a.exhausted)),
    ...(abruptStops.length ? { abruptStops } : {}),
    advice: cause ? advice(cause, rest, gathered.findings, logs) : null,
    ...(edge ? { edge } : {}),
    read: gathered.read,
  };
}

function rankCandidates(
  gathered: Gathered,
  deploy: DeployMarker | undefined,
  changes: TemplateChange[],
): Candidate[] {
  const { logs } = gathered;
  const byKey = new Map<string, Candidate>();
  const mismatches = configMismatches(logs.starts);
  for (const signal of logs.signals.values()) {
    let kind: CandidateKind = signal.kind;
    let [rank, category] = RANKS[kind];
    let summary = summaryOf(signal.kind, signal.subject, signal.reasons);
    const evidence = [...signal.samples];
    const mismatch = signal.subject ? mismatches.get(signal.subject) : undefined;
    if (signal.kind === 'dependency' && signal.subject && (mismatch || unreachableFromStart(logs, signal))) {
      kind = 'config_mismatch';
      [rank, category] = RANKS.config_mismatch;
      const dependency = dependencyNamed(signal.subject);
      summary = mismatch
        ? `${mismatch.setting} is ${mismatch.configured}, but the ${mismatch.service} service listens on ${mismatch.actual}: every call to ${signal.subject} is refused`
        : `${signal.subject} was unreachable from the service's start, never reached once: check ${dependency?.setting ?? 'its URL setting'}`;
      if (mismatch) evidence.unshift(...mismatch.evidence);
    }
    if (
      signal.kind === 'dependency' &&
      signal.subject &&
      logs.dependenciesFailingOnDatabase.has(signal.subject)
    ) {
      rank = RANKS.breaker_open[0];
      summary = `${summary}; its own log blames the database`;
    }
    if (
      signal.kind === 'exception' &&
      deploy &&
      signal.first >= Date.parse(deploy.marker.time) - CLOCK_SLACK_MS
    ) {
      rank = AFTER_DEPLOY_RANK;
      category = 'bad_deployment';
      summary = `${summary}, since ${describeDeploy(deploy.marker)}`;
      evidence.unshift(deploy.evidence);
    }
    if (signal.kind === 'startup_failure' || signal.kind === 'schema_mismatch')
      evidence.push(...logs.startupFailureTexts);
    byKey.set(`${signal.kind}:${signal.subject ?? ''}`, {
      kind,
      subject: signal.subject,
      category,
      rank,
      summary,
      first: signal.first,
      last: signal.last,
      count: signal.count,
      evidence: evidence.slice(0, 5),
    });
  }
  if (logs.startupFailureTexts.length > 0 && ![...byKey.values()].some((c) => c.kind === 'startup_failure')) {
    byKey.set('startup_failure:', {
      kind: 'startup_failure',
      category: 'misconfiguration',
      rank: RANKS.startup_failure[0],
      summary: 'the service failed its startup checks',
      count: logs.startupFailureTexts.length,
      evidence: [...logs.startupFailureTexts],
    });
  }
  for (const found of gathered.findings) {
    const key = `${found.kind}:${found.subject ?? ''}`;
    const line = { at: found.source, line: found.summary };
    const known = byKey.get(key) ?? relatedCandidate(byKey, found);
    if (known) {
      if (known.evidence.length < 6) known.evidence.push(line);
      if (found.counted) known.count = Math.max(known.count, Math.round(found.value));
      continue;
    }
    const [rank, category] = RANKS[found.kind];
    byKey.set(key, {
      kind: found.kind,
      subject: found.subject,
      category,
      rank,
      summary: summaryOf(found.kind, found.subject, {}),
      count: found.counted ? Math.round(found.value) : 1,
      evidence: [line],
    });
  }
  if (byKey.size === 0 && logs.failures > 0 && logs.firstFailure) {
    // No rule knows these failures: what the logs began to say with them is the evidence, never dropped.
    // The words come first: the 5xx answers are the failures themselves, not their account.
    const said = [
      ...changes.filter((c) => c.of === 'message'),
      ...changes.filter((c) => c.of === 'answer'),
    ].slice(0, 4);
    byKey.set('exception:', {
      kind: 'exception',
      category: 'unhandled_exception',
      rank: RANKS.exception[0],
      summary: said[0]
        ? `${logs.failures} 5xx answers no rule explains; ${describeChange(said[0])}`
        : `${logs.failures} 5xx answers without an error line of their own`,
      first: logs.firstFailureTime,
      last: logs.lastFailureTime,
      count: logs.failures,
      evidence: [
        ...said.map((change) => ({
          at: change.sample.at,
          time: change.sample.time,
          line: describeChange(change),
        })),
        logs.firstFailure,
      ],
    });
  }
  for (const found of edgeCandidates(logs.edge, gathered.balancerConfig))
    byKey.set(`${found.kind}:${found.subject}`, found);
  return [...byKey.values()].sort(
    (a, b) =>
      a.rank - b.rank || (a.first ?? Number.POSITIVE_INFINITY) - (b.first ?? Number.POSITIVE_INFINITY),
  );
}

function summaryOf(
  kind: CandidateKind,
  subject: string | undefined,
  reasons: Record<string, number>,
): string {
  const why = Object.entries(reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const because = why ? ` (${why})` : '';
  switch (kind) {
    case 'startup_failure': {
      const problems = Object.keys(reasons).join(' ');
      return `the service failed its startup checks and never opened its port${problems ? `: ${problems}` : ''}`;
    }
    case 'schema_mismatch':
      return 'the code expects a schema the database does not have: a migration that did not run';
    case 'database':
      return `PostgreSQL is failing: stopped, unreachable or hung${because}`;
    case 'dependency':
      return `${subject} is failing${because}`;
    case 'slow_statements':
      return 'database connections are held by slow statements (statement timeouts): the pool runs dry';
    case 'db_connections':
      return "PostgreSQL's connection slots are used up (too many clients)";
    case 'file_descriptors':
      return 'the process ran out of file descriptors (EMFILE)';
    case 'disk':
      // "disk <path>" from a scrape or a log file's failed write: the path named as its metric names it.
      if (subject === LOG_DISK) return `the log file's filesystem (path "logs") is full (ENOSPC)`;
      return subject?.startsWith('disk ')
        ? `the filesystem of path "${subject.slice('disk '.length)}" is full (ENOSPC)`
        : 'a disk is full (ENOSPC)';
    case 'memory':
      return subject === 'heap' ? 'the V8 heap is near its limit' : 'memory is nearly exhausted';
    case 'event_loop':
      return 'the event loop is blocked: every request waits on it';
    case 'overload':
      return `more load than the instance can carry: requests shed at the door${because}`;
    case 'pool_saturated':
      return 'the database pool is exhausted: every connection busy and the queue full';
    case 'exception':
      return `unhandled ${subject ?? 'exception'}: a bug`;
    case 'breaker_open':
      return `the circuit breaker of ${subject} is open: calls fail fast`;
    case 'dependency_saturated':
      return `calls to ${subject} are queued past their bulkhead`;
    case 'config_mismatch':
      return `${subject} is configured wrong`;
  }
}

interface Mismatch {
  setting: string;
  service: string;
  configured: string;
  actual: string;
  evidence: EvidenceLine[];
}

/** A checkout instance told to call a dependency where no instance of that dependency said it listens. */
function configMismatches(starts: ServiceStart[]): Map<string, Mismatch> {
  const found = new Map<string, Mismatch>();
  for (const [dependency, { setting, service, field }] of Object.entries(DEPENDENCIES)) {
    const announced = starts.filter((s) => s.service === service && s.url);
    const latest = announced.at(-1);
    if (!latest?.url) continue;
    for (const start of starts) {
      const configured = start[field];
      if (typeof configured !== 'string' || announced.some((a) => sameOrigin(configured, a.url as string)))
        continue;
      found.set(dependency, {
        setting,
        service,
        configured,
        actual: latest.url,
        evidence: [start.evidence, latest.evidence],
      });
    }
  }
  return found;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).host === new URL(b).host;
  } catch {
    return a === b;
  }
}

/** Refused from the first call, never a confirmed checkout before: the URL is wrong, not the service down. */
function unreachableFromStart(
  logs: LogEvidence,
  signal: { first: number; reasons: Record<string, number> },
): boolean {
  const reasons = Object.keys(signal.reasons).filter((r) => r !== 'circuit_open');
  if (reasons.length !== 1 || reasons[0] !== 'unreachable') return false;
  if (logs.firstCheckoutConfirmed !== undefined && logs.firstCheckoutConfirmed < signal.first) return false;
  return logs.starts.some((s) => s.time <= signal.first && signal.first - s.time <= SINCE_START_MS * 4);
}

function shapeOf(
  logs: LogEvidence,
  first: number | undefined,
  deploy: DeployMarker | undefined,
  failuresByEndpoint: Map<string, number> = logs.failuresByEndpoint,
): TriageReport['when']['shape'] {
  const shape: TriageReport['when']['shape'] = [];
  if (first === undefined) return shape;
  if (deploy) shape.push('after_deploy');
  if (failuresByEndpoint.size === 1 && ([...failuresByEndpoint.values()][0] ?? 0) >= 3)
    shape.push('one_endpoint');
  // "Always happened": failing from a start on, the failing endpoint never having answered well before.
  const [endpoint] = [...failuresByEndpoint].sort((a, b) => b[1] - a[1])[0] ?? [];
  const firstSuccess = endpoint ? logs.firstSuccessByEndpoint.get(endpoint) : undefined;
  const nearStart = logs.starts.some(
    (s) => s.time <= first + CLOCK_SLACK_MS && first - s.time <= SINCE_START_MS,
  );
  if (nearStart && !deploy && (firstSuccess === undefined || firstSuccess > first)) shape.push('since_start');
  // The load is what was served (below 500), so that failing fast, which lets clients ask faster, is not load.
  const rate = (from: number, to: number) => {
    let served = 0;
    let buckets = 0;
    for (const [at, bucket] of logs.buckets) {
      if (at < from || at >= to) continue;
      served += bucket.requests - bucket.failures;
      buckets++;
    }
    return buckets ? served / buckets : 0;
  };
  const start = Math.floor(first / BUCKET_MS) * BUCKET_MS;
  const before = rate(start - 30 * BUCKET_MS, start);
  const after = rate(start, start + 30 * BUCKET_MS);
  if (before > 0 && after >= 1.5 * before && after - before >= 5) shape.push('rising_with_load');
  if (!shape.includes('rising_with_load') && !shape.includes('since_start')) shape.push('sudden');
  return shape;
}

function finding(candidate: Candidate): Finding {
  return {
    kind: candidate.kind,
    subject: candidate.subject,
    summary: candidate.summary,
    first: iso(candidate.first),
    last: iso(candidate.last),
    count: candidate.count,
    evidence: candidate.evidence,
  };
}

function advice(
  cause: Candidate,
  symptoms: Candidate[],
  findings: MetricFinding[],
  logs: LogEvidence,
): TriageReport['advice'] {
  const edgeFix = EDGE_FIXES[cause.kind];
  const fix = edgeFix?.fix ?? FIXES[cause.category].fix;
  const runbook =
    edgeFix?.runbook ?? RESOURCE_RUNBOOKS[cause.kind as SignalKind] ?? FIXES[cause.category].runbook;
  const names = new Set<string>();
  for (const candidate of [cause, ...symptoms]) {
    const alert = ALERTS[candidate.kind as SignalKind];
    if (alert) names.add(alert);
  }
  if ((logs.failuresByEndpoint.get('POST /api/checkout/complete') ?? 0) > 0)
    names.add('CheckoutErrorRateHigh');
  const firing = new Set(findings.map((f) => ALERTS[f.kind]).filter(Boolean));
  return {
    fix,
    runbook,
    alerts: [...names].map((name) => ({ name, state: firing.has(name) ? 'firing' : 'expected' })),
  };
}

function iso(time: number | undefined): string | undefined {
  return time === undefined ? undefined : new Date(time).toISOString();
}

/**
 * The log signal a metrics finding belongs to. The metrics cannot tell a statement timeout from a dead
 * server ("database", "timeout"): when the log lines already tell which it is, they decide.
 */
function relatedCandidate(byKey: Map<string, Candidate>, found: MetricFinding): Candidate | undefined {
  if (found.kind !== 'database') return undefined;
  return [...byKey.values()].filter((c) => c.subject === 'database').sort((a, b) => a.rank - b.rank)[0];
}

/** The failures and requests as the client saw them: the instances' own, and the 5xx only the balancer gave. */
function edgeSeen(
  logs: LogEvidence,
  edge: TriageReport['edge'],
  first: number | undefined,
  last: number | undefined,
) {
  const endpoints = new Map(logs.failuresByEndpoint);
  if (!edge) return { failures: logs.failures, requests: logs.requests, first, last, endpoints };
  let failures = logs.failures;
  let edgeFirst: number | undefined;
  let edgeLast: number | undefined;
  for (const found of Object.values(edge.failuresByKind)) {
    failures += found.count - found.instances.failed;
    edgeFirst = Math.min(edgeFirst ?? Date.parse(found.first), Date.parse(found.first));
    edgeLast = Math.max(edgeLast ?? Date.parse(found.last), Date.parse(found.last));
  }
  for (const [route, count] of logs.edge.failuresByRoute)
    endpoints.set(route, (endpoints.get(route) ?? 0) + count);
  const min = (a: number | undefined, b: number | undefined) =>
    a === undefined ? b : b === undefined ? a : Math.min(a, b);
  const max = (a: number | undefined, b: number | undefined) =>
    a === undefined ? b : b === undefined ? a : Math.max(a, b);
  return {
    failures,
    // Each request is in both logs: the larger count is the traffic, whichever log was read whole.
    requests: Math.max(logs.requests, edge.requests),
    first: min(logs.firstFailureTime ?? first, edgeFirst),
    last: max(logs.lastFailureTime ?? last, edgeLast),
    endpoints,
  };
}
