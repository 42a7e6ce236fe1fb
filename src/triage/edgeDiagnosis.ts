import type { BalancerFailure, BalancerFailureKind, EdgeEvidence } from './edgeEvidence.ts';
import type { EdgeReport } from './edgeSchema.ts';
import type { EvidenceLine } from './LogEvidence.ts';
import type { Category } from './report.ts';

/** `timeout server` of the balancer's configuration, when one was read. */
export interface BalancerConfig {
  file: string;
  state: 'read' | 'unreadable';
  detail?: string;
  timeoutServerMs?: number;
  line?: number;
}

/** The kinds of finding the edge adds to the decision tree. */
export type EdgeKind =
  | 'balancer_timeout'
  | 'instance_unresponsive'
  | 'no_server'
  | 'shed_at_edge'
  | 'queue_timeout'
  | 'connection_refused'
  | 'server_aborted'
  | 'balancer_5xx';

export interface EdgeCandidate {
  kind: EdgeKind;
  subject: string;
  category: Category;
  rank: number;
  summary: string;
  first: number;
  last: number;
  count: number;
  evidence: EvidenceLine[];
}

/**
 * Ranks in the decision tree's order (diagnose.ts). A balancer that gives up before the instance answers,
 * the instance answering well, is a setting: first, with the other misconfigurations. The others come
 * after every cause the instances' own logs can name (a database down takes every server out as well):
 * the balancer's view is the cause only when the instances say nothing of it.
 */
const EDGE_RANK = { confirmed: 1, unresponsive: 3.5, after_instances: 8.5, overload: 7 } as const;
const CLOCK_SLACK_MS = 2000;

/** The edge's findings: each kind of 5xx the balancer made itself, with what the instances did meanwhile. */
export function edgeCandidates(edge: EdgeEvidence, config: BalancerConfig | undefined): EdgeCandidate[] {
  edge.finish();
  const out: EdgeCandidate[] = [];
  const at = (wall: number) => edge.timeOf(wall);
  const base = (failure: BalancerFailure) => ({
    first: at(failure.first),
    last: at(failure.last),
    count: failure.count,
    evidence: failure.samples,
  });
  const codes = (failure: BalancerFailure) =>
    `${statusList(failure.statuses)} (${Object.keys(failure.states).join(', ')})`;
  const seen = new Set<BalancerFailureKind>();

  const timeout = edge.failuresByKind.get('server_timeout');
  if (timeout) {
    seen.add('server_timeout');
    const waited = timeout.waitedMs;
    const configured = config?.timeoutServerMs;
    // The file read may not be what ran (its "${NAME-default}" come from HAProxy's environment): when the
    // two disagree, the timers are what HAProxy did.
    const fileRan =
      configured !== undefined && (waited === undefined || Math.abs(configured - waited) <= 500);
    const limit = fileRan ? configured : (waited ?? configured);
    const budget = edge.budgetMs;
    const below = limit !== undefined && budget !== undefined && limit < budget;
    const { answered, abandoned } = timeout.outcomes;
    const late = answered + abandoned;
    const where = fileRan ? `, ${baseName(config?.file ?? '')}:${config?.line}` : ', from its timers';
    // The headline: the balancer answers 5xx the application never gave, why, and what to change.
    const against =
      budget === undefined
        ? `(the service's budget is not in its logs: from the timers alone, HAProxy waits ${seconds(waited)})`
        : below
          ? `below the service's budget of ${seconds(budget)}: raise it above the budget`
          : `not below the service's budget of ${seconds(budget)}`;
    const summary = `HAProxy answered ${codes(timeout)} itself to ${timeout.count} request(s) ${late ? 'the instances never failed' : 'the instances left unanswered'}: its 'timeout server' (${seconds(limit)}${where}) is ${against}`;
    // What the join found, each a line of evidence before HAProxy's own lines.
    const found: string[] = [];
    if (answered)
      found.push(
        `the instances answered ${answered} of them ${statusList(timeout.lateAnswerStatuses)}, after HAProxy had given up (up to ${seconds(timeout.lateAnswerMaxMs)})`,
      );
    if (abandoned)
      found.push(
        `the instances were still working on ${abandoned} of them when HAProxy closed the connection: they logged 499 after ${seconds(timeout.abandonedAfterMs)}, and their work went on (a checkout may be charged)`,
      );
    if (configured !== undefined && !fileRan)
      found.push(
        `the running HAProxy waited ${seconds(waited)}, not the ${seconds(configured)} of the file read`,
      );
    if (late || below)
      out.push({
        kind: 'balancer_timeout',
        subject: 'timeout server',
        category: 'misconfiguration',
        rank: EDGE_RANK.confirmed,
        summary,
        ...base(timeout),
        evidence: [
          ...found.map((line) => ({ at: 'balancer ⋈ instances, by request id', line })),
          ...timeout.samples,
        ],
      });
    else seen.delete('server_timeout');
  }

  // An instance whose lines stop while the balancer's to it go on: frozen (a stop-the-world pause, a
  // SIGSTOP) or dead, until its health check takes it out.
  for (const server of edge.servers.values()) {
    if (!server.unseen || server.firstUnseen === undefined) continue;
    const source = edge.sourceOf(server.name);
    const last = source ? edge.instanceLastLine(source) : undefined;
    if (last === undefined || last > at(server.firstUnseen) + CLOCK_SLACK_MS) continue;
    const failures = [...edge.failuresByKind.values()].filter((f) => f.servers.has(server.name));
    const states = [...new Set(failures.flatMap((f) => Object.keys(f.states)))].join(', ');
    const evidence = failures.flatMap((f) => f.samples.filter((s) => s.line.includes(`/${server.name} `)));
    out.push({
      kind: 'instance_unresponsive',
      subject: server.name,
      category: 'dependency_failure',
      // Its lines stop: nothing in them explains it, and the load it sheds onto the others explains theirs.
      rank: EDGE_RANK.unresponsive,
      summary: `${server.name} stopped answering: its log's last request line is at ${new Date(last).toISOString()}, yet HAProxy went on sending it requests and answered ${server.unseen} of them itself (${states}) with no line in ${source}'s log: the instance is frozen or dead behind the balancer`,
      first: at(server.firstUnseen),
      last: at(server.lastWall),
      count: server.unseen,
      evidence: [...(edge.events.get(server.name) ?? []), ...evidence].slice(0, 4),
    });
  }
  if (out.some((c) => c.kind === 'instance_unresponsive')) seen.add('server_timeout').add('server_aborted');

  const others: [BalancerFailureKind, EdgeKind, Category, number, (f: BalancerFailure) => string][] = [
    [
      'no_server',
      'no_server',
      'dependency_failure',
      EDGE_RANK.after_instances,
      (f) =>
        `HAProxy had no checkout instance to send ${f.count} request(s) to and answered ${codes(f)} itself (<NOSRV>): ${serversOut(edge)}; ${f.outcomes.unseen + f.outcomes.unknown === f.count ? 'no instance logged any of them' : 'the instances logged some of them'}`,
    ],
    [
      'shed_at_edge',
      'shed_at_edge',
      'overload',
      EDGE_RANK.overload,
      (f) =>
        `HAProxy refused ${f.count} checkout(s) itself with ${codes(f)} SERVER_OVERLOADED: every instance was carrying as many checkouts as its admission limit lets in (the maxconn its agent reports): more load than the instances take`,
    ],
    [
      'queue_timeout',
      'queue_timeout',
      'overload',
      EDGE_RANK.overload,
      (f) =>
        `${f.count} request(s) waited in HAProxy's queue past 'timeout queue' (every server at its maxconn) and got ${codes(f)} from the balancer: more load than the instances take`,
    ],
    [
      'connection_refused',
      'connection_refused',
      'dependency_failure',
      EDGE_RANK.after_instances,
      (f) =>
        `HAProxy could not connect to ${[...f.servers.keys()].join(', ')} (refused or reset at connect, after its retries) and answered ${codes(f)} to ${f.count} request(s): the instance is down or not listening`,
    ],
    [
      'server_aborted',
      'server_aborted',
      'dependency_failure',
      EDGE_RANK.after_instances,
      (f) =>
        `${[...f.servers.keys()].join(', ')} closed the connection before its answer and HAProxy answered ${codes(f)} to ${f.count} request(s): the instance died mid-request, or a keep-alive race (the instance's KEEP_ALIVE_TIMEOUT_MS at or below HAProxy's 'timeout http-keep-alive')`,
    ],
    [
      'server_timeout',
      'balancer_5xx',
      'dependency_failure',
      EDGE_RANK.after_instances,
      (f) =>
        `HAProxy timed out waiting for an instance (${seconds(f.waitedMs)}) and answered ${codes(f)} to ${f.count} request(s)${f.outcomes.unseen ? `, ${f.outcomes.unseen} of them never logged by an instance` : ''}`,
    ],
    [
      'balancer_other',
      'balancer_5xx',
      'dependency_failure',
      EDGE_RANK.after_instances,
      (f) => `HAProxy answered ${codes(f)} itself to ${f.count} request(s)`,
    ],
  ];
  for (const [failureKind, kind, category, rank, summary] of others) {
    const failure = edge.failuresByKind.get(failureKind);
    if (!failure || seen.has(failureKind)) continue;
    // HAProxy's own word on its servers comes first: what took them out.
    const events = kind === 'no_server' ? [...edge.events.values()].flat().slice(0, 3) : [];
    out.push({
      kind,
      subject: 'HAProxy',
      category,
      rank,
      summary: summary(failure),
      ...base(failure),
      evidence: [...events, ...failure.samples].slice(0, 5),
    });
  }
  return out;
}

/** What HAProxy said of its servers: which were set to drain or maintenance, or went down. */
function serversOut(edge: EdgeEvidence): string {
  const by = (kind: 'drain' | 'maintenance' | 'down') =>
    [...edge.eventKinds].filter(([server, kinds]) => server && kinds.has(kind)).map(([server]) => server);
  const states: [string[], string][] = [
    [by('drain'), 'set to drain'],
    [by('maintenance'), 'in maintenance'],
    [by('down'), 'down (failing their check)'],
  ];
  const said = states
    .filter(([servers]) => servers.length)
    .map(([servers, what]) => `${servers.join(', ')} ${what}`);
  return said.length
    ? `HAProxy's log says ${said.join('; ')}`
    : 'every server down, in maintenance or draining';
}

/** The edge as the report states it: what HAProxy's log said, and how it joined the instances'. */
export function edgeReport(edge: EdgeEvidence, config: BalancerConfig | undefined): EdgeReport {
  edge.finish();
  const madeByBalancer = [...edge.failuresByKind.values()].reduce((n, f) => n + f.count, 0);
  return {
    balancerLines: edge.lines,
    requests: edge.requests,
    failures: edge.failures,
    madeByBalancer,
    joined: edge.joined,
    statusesAgree: edge.statusesAgree,
    statusesDiffer: Object.fromEntries(edge.statusesDiffer),
    failuresByKind: Object.fromEntries(
      [...edge.failuresByKind].map(([kind, f]) => [
        kind,
        {
          count: f.count,
          first: new Date(edge.timeOf(f.first)).toISOString(),
          last: new Date(edge.timeOf(f.last)).toISOString(),
          states: { ...f.states },
          instances: { ...f.outcomes },
          servers: Object.fromEntries(f.servers),
        },
      ]),
    ),
    servers: [...edge.servers.values()].map((s) => ({
      name: s.name,
      requests: s.lines,
      failures: s.failures,
      unseen: s.unseen,
      ...(s.source ? { instanceLog: s.source } : {}),
    })),
    ...(edge.budgetMs !== undefined ? { budgetMs: edge.budgetMs } : {}),
    ...(edge.failuresByKind.get('server_timeout')?.waitedMs !== undefined
      ? { timeoutServerFromTimersMs: edge.failuresByKind.get('server_timeout')?.waitedMs }
      : {}),
    ...(config ? { config: { ...config } } : {}),
    joinHorizonReached: edge.instancesDropped + edge.balancerDropped > 0,
    zoneOffsetMinutes: Math.round(edge.offsetMs(Date.now()) / 60_000),
  };
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

function seconds(ms: number | undefined): string {
  if (ms === undefined) return '?';
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function statusList(statuses: Record<string, number>): string {
  return Object.keys(statuses).join('/') || '?';
}
