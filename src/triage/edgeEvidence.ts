import { type BalancerEvent, type BalancerLine, describeState, pathAsRoute } from './balancerLog.ts';
import { BoundedWaiting } from './boundedWaiting.ts';
import type { EvidenceLine } from './LogEvidence.ts';

/**
 * The edge: HAProxy's request lines joined to the instances' `request_completed` lines by request id,
 * so that a 5xx the balancer made itself (its timeout, no server up, a queue timeout, a connection refused
 * or cut) is told from the instance's own, and what the instance did with that request is known (answered
 * late, or never saw it). Memory is bounded: each side waits for the other in a map of fixed size.
 */

/** What made a balancer's 5xx, from its termination state and server. */
export type BalancerFailureKind =
  | 'no_server'
  | 'shed_at_edge'
  | 'queue_timeout'
  | 'server_timeout'
  | 'connection_refused'
  | 'server_aborted'
  | 'client_gone'
  | 'balancer_other';

/**
 * What the instance did with a request the balancer answered 5xx itself: answered it below 500 (late);
 * abandoned (logged 499 or 408: the balancer closed the connection while the instance worked on it, and
 * its work went on); failed too; unseen (its log was read and holds no line of that id); unknown.
 */
type InstanceOutcome = 'answered' | 'abandoned' | 'failed' | 'unseen' | 'unknown';
const ABANDONED = new Set([408, 499]);

interface WaitingInstance {
  status: number;
  durationMs: number;
  time: number;
  source: string;
  endpoint: string;
}

interface WaitingBalancer {
  line: BalancerLine;
  evidence: EvidenceLine;
}

export interface BalancerFailure {
  kind: BalancerFailureKind;
  count: number;
  /** Wall times as HAProxy printed them (see EdgeEvidence.offsetMs). */
  first: number;
  last: number;
  statuses: Record<string, number>;
  states: Record<string, number>;
  outcomes: Record<InstanceOutcome, number>;
  servers: Map<string, number>;
  /** The longest the instances took for the requests they answered while the balancer answered 5xx. */
  lateAnswerMaxMs?: number;
  lateAnswerStatuses: Record<string, number>;
  /** When the instances logged the balancer's leaving (499), the longest they had worked by then. */
  abandonedAfterMs?: number;
  /** How long the balancer waited on the server before it gave up (`timeout server`, seen in the timers). */
  waitedMs?: number;
  samples: EvidenceLine[];
}

export interface ServerView {
  name: string;
  lines: number;
  failures: number;
  /** Lines with no instance line to join, of an instance whose log was read. */
  unseen: number;
  firstUnseen?: number;
  lastWall: number;
  /** The instance log it was joined to (or named after it). */
  source?: string;
}

const MAX_WAITING_INSTANCES = 100_000;
const MAX_WAITING_BALANCER = 50_000;
const MAX_SERVERS = 100;
const MAX_ENDPOINTS = 1000;
const MAX_SAMPLES = 3;
const MAX_KEYS = 20;
const OTHERS = '(others)';
/** HAProxy prints local time without its zone; the join tells the zone, to the quarter hour. */
const ZONE_STEP_MS = 15 * 60_000;
/** An instance line this long after the balancer's is not taken for the same moment. */
const CLOCK_SLACK_MS = 2000;

export class EdgeEvidence {
  lines = 0;
  /** HAProxy's news of its servers, by server (`''` for the backend's own): a few each, to show. */
  readonly events = new Map<string, EvidenceLine[]>();
  readonly eventKinds = new Map<string, Set<BalancerEvent['event']>>();
  /** Lines of the proxied traffic (HAProxy's own stats page left out). */
  requests = 0;
  /** 5xx the balancer gave, whoever made them. */
  failures = 0;
  joined = 0;
  statusesAgree = 0;
  readonly statusesDiffer = new Map<string, number>();
  readonly failuresByKind = new Map<BalancerFailureKind, BalancerFailure>();
  readonly servers = new Map<string, ServerView>();
  /** The 5xx the balancer made, by route (`POST /api/carts/:id/items`): the instance's endpoint when joined. */
  readonly failuresByRoute = new Map<string, number>();
  /**
   * Whether instance lines wait for their balancer line: gather says no when no source holds HAProxy's
   * lines, so that the join costs nothing then. Balancer lines always look for theirs.
   */
  joining = true;
  /** The longest checkout budget an instance announced at its start. */
  budgetMs: number | undefined;
  /** Instance log lines that waited for a balancer line and were pushed out by newer ones: the join's horizon. */
  instancesDropped = 0;
  balancerDropped = 0;
  #instancesDroppedUpTo = Number.NEGATIVE_INFINITY;
  readonly #waitingInstances = new BoundedWaiting<WaitingInstance>(MAX_WAITING_INSTANCES);
  readonly #waitingBalancer = new BoundedWaiting<WaitingBalancer>(MAX_WAITING_BALANCER);
  /** Each instance log's last request line (true time): an instance whose lines stop is frozen or gone. */
  readonly #instanceLast = new Map<string, number>();
  readonly #instanceFirst = new Map<string, number>();
  readonly #zoneVotes = new Map<number, number>();
  readonly #endpoints = new Map<string, string>();
  #finished = false;
  readonly #defaultZoneMs: (wall: number) => number;

  constructor(options: { defaultZoneMs?: (wall: number) => number } = {}) {
    this.#defaultZoneMs = options.defaultZoneMs ?? localZoneMs;
  }

  /** An instance's start: the budget its requests take at most, when it says so. */
  instanceStarted(budgetMs: number | undefined): void {
    if (budgetMs !== undefined) this.budgetMs = Math.max(this.budgetMs ?? 0, budgetMs);
  }

  /** One `request_completed` line of a checkout instance. */
  instanceRequest(
    file: string,
    request: { requestId?: string; status: number; durationMs?: number; endpoint?: string },
    time: number,
  ): void {
    const source = instanceOf(file);
    this.#instanceLast.set(source, Math.max(this.#instanceLast.get(source) ?? time, time));
    this.#instanceFirst.set(source, Math.min(this.#instanceFirst.get(source) ?? time, time));
    const id = request.requestId;
    if (!id || !this.joining) return;
    const entry = {
      status: request.status,
      durationMs: request.durationMs ?? 0,
      time,
      source,
      endpoint: this.#intern(request.endpoint ?? ''),
    };
    const balancer = this.#waitingBalancer.take(id);
    if (balancer) {
      this.#join(balancer, entry);
      return;
    }
    const dropped = this.#waitingInstances.put(id, entry);
    if (dropped) {
      this.instancesDropped++;
      this.#instancesDroppedUpTo = Math.max(this.#instancesDroppedUpTo, dropped.time);
    }
  }

  /** A server's state change, or a backend with none left. HAProxy logs each twice (stderr and log): shown once. */
  balancerEvent(event: BalancerEvent, evidence: EvidenceLine): void {
    const key = event.server ?? '';
    if (!this.events.has(key) && this.events.size >= MAX_SERVERS) return;
    const shown = this.events.get(key) ?? [];
    if (shown.length < MAX_SAMPLES && !shown.some((e) => e.line === evidence.line)) shown.push(evidence);
    this.events.set(key, shown);
    const kinds = this.eventKinds.get(key) ?? new Set();
    kinds.add(event.event);
    this.eventKinds.set(key, kinds);
  }

  /** One line of HAProxy's request log. */
  balancerRequest(line: BalancerLine, evidence: EvidenceLine): void {
    this.lines++;
    if (line.server === '<STATS>' || line.server === '<CACHE>') return;
    this.requests++;
    if (line.status >= 500) this.failures++;
    const server = this.#server(line.server);
    if (server) {
      server.lines++;
      server.lastWall = Math.max(server.lastWall, completion(line));
      if (line.status >= 500) server.failures++;
    }
    const waiting = line.requestId ? this.#waitingInstances.take(line.requestId) : undefined;
    if (waiting) {
      this.#join({ line, evidence }, waiting);
      return;
    }
    if (!line.requestId) {
      if (madeByBalancer(line)) this.#failure(line, evidence, undefined);
      return;
    }
    // Kept whole only when it may be a failure to explain; otherwise the id is enough to join.
    const dropped = this.#waitingBalancer.put(line.requestId, {
      line,
      evidence: madeByBalancer(line) ? evidence : NO_EVIDENCE,
    });
    if (dropped) {
      this.balancerDropped++;
      this.#settle(dropped, 'unknown');
    }
  }

  /**
   * The difference between the instances' clock (UTC) and the wall time HAProxy printed: voted by the
   * joined lines, else the zone of the machine triage runs on.
   */
  offsetMs(wall: number): number {
    let best: number | undefined;
    let votes = 0;
    for (const [offset, count] of this.#zoneVotes) if (count > votes) [best, votes] = [offset, count];
    return best ?? this.#defaultZoneMs(wall);
  }

  /** True time of a wall time HAProxy printed. */
  timeOf(wall: number): number {
    return wall + this.offsetMs(wall);
  }

  /** The balancer lines still waiting have no instance line: settled now, once. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    for (const waiting of this.#waitingBalancer.values()) this.#settle(waiting, undefined);
    this.#waitingBalancer.clear();
    this.#waitingInstances.clear();
  }

  /** The instance log behind a server: joined to it, or named after it (`checkout-2` → `checkout-2.log`). */
  sourceOf(server: string): string | undefined {
    const view = this.servers.get(server);
    if (view?.source) return view.source;
    return this.#instanceLast.has(server) ? server : undefined;
  }

  /** When an instance log's request lines stop (true time). */
  instanceLastLine(source: string): number | undefined {
    return this.#instanceLast.get(source);
  }

  #join(balancer: WaitingBalancer, instance: WaitingInstance): void {
    const { line } = balancer;
    this.joined++;
    if (line.status === instance.status) this.statusesAgree++;
    else {
      const key = `${line.status}/${instance.status}`;
      const counted = this.statusesDiffer.has(key) || this.statusesDiffer.size < MAX_KEYS ? key : OTHERS;
      this.statusesDiffer.set(counted, (this.statusesDiffer.get(counted) ?? 0) + 1);
    }
    const offset = Math.round((instance.time - completion(line)) / ZONE_STEP_MS) * ZONE_STEP_MS;
    this.#zoneVotes.set(offset, (this.#zoneVotes.get(offset) ?? 0) + 1);
    const server = this.#server(line.server);
    if (server && !server.source) server.source = instance.source;
    this.#settle(balancer, instance);
  }

  /** A balancer line whose instance side is known (joined), absent (undefined), or past the join's horizon. */
  #settle(waiting: WaitingBalancer, instance: WaitingInstance | undefined | 'unknown'): void {
    const { line } = waiting;
    if (typeof instance === 'object') {
      // The same 5xx on both sides is the instance's own, passed on; the instance logs why.
      if (line.status >= 500 && instance.status !== line.status)
        this.#failure(line, waiting.evidence, instance);
      return;
    }
    if (!madeByBalancer(line)) return;
    if (instance === 'unknown') {
      this.#failure(line, waiting.evidence, 'unknown');
      return;
    }
    const source = this.sourceOf(line.server);
    const first = source ? this.#instanceFirst.get(source) : undefined;
    const true_ = this.timeOf(completion(line));
    // Unseen only when that instance's log was read from before this request, and the join still held it.
    const unseen =
      first !== undefined &&
      first <= true_ + CLOCK_SLACK_MS &&
      this.#instancesDroppedUpTo < true_ - CLOCK_SLACK_MS;
    if (unseen) {
      const server = this.#server(line.server);
      if (server) {
        server.unseen++;
        server.firstUnseen = Math.min(server.firstUnseen ?? line.wallTime, line.wallTime);
      }
    }
    this.#failure(line, waiting.evidence, unseen ? 'unseen' : 'unknown');
  }

  #failure(
    line: BalancerLine,
    evidence: EvidenceLine,
    instance: WaitingInstance | 'unseen' | 'unknown' | undefined,
  ): void {
    const kind = failureKind(line);
    let failure = this.failuresByKind.get(kind);
    if (!failure) {
      failure = {
        kind,
        count: 0,
        first: line.wallTime,
        last: line.wallTime,
        statuses: Object.create(null),
        states: Object.create(null),
        outcomes: { answered: 0, abandoned: 0, failed: 0, unseen: 0, unknown: 0 },
        servers: new Map(),
        lateAnswerStatuses: Object.create(null),
        samples: [],
      };
      this.failuresByKind.set(kind, failure);
    }
    failure.count++;
    if (typeof instance !== 'object' || instance.status < 500) {
      const route =
        typeof instance === 'object' && instance.endpoint
          ? instance.endpoint
          : `${line.method} ${pathAsRoute(line.path)}`;
      const key = this.failuresByRoute.has(route) || this.failuresByRoute.size < MAX_KEYS ? route : OTHERS;
      this.failuresByRoute.set(key, (this.failuresByRoute.get(key) ?? 0) + 1);
    }
    failure.first = Math.min(failure.first, line.wallTime);
    failure.last = Math.max(failure.last, line.wallTime);
    bump(failure.statuses, String(line.status));
    bump(failure.states, `${line.state.cause}${line.state.phase}`);
    if (failure.servers.size < MAX_KEYS || failure.servers.has(line.server))
      failure.servers.set(line.server, (failure.servers.get(line.server) ?? 0) + 1);
    const outcome: InstanceOutcome =
      typeof instance === 'object'
        ? ABANDONED.has(instance.status)
          ? 'abandoned'
          : instance.status < 500
            ? 'answered'
            : 'failed'
        : (instance ?? 'unknown');
    failure.outcomes[outcome]++;
    if (outcome === 'abandoned' && typeof instance === 'object')
      failure.abandonedAfterMs = Math.max(failure.abandonedAfterMs ?? 0, Math.round(instance.durationMs));
    if (outcome === 'answered' && typeof instance === 'object') {
      failure.lateAnswerMaxMs = Math.max(failure.lateAnswerMaxMs ?? 0, Math.round(instance.durationMs));
      bump(failure.lateAnswerStatuses, String(instance.status));
    }
    if (kind === 'server_timeout') {
      const waited = waitedOnServer(line);
      if (waited !== undefined) failure.waitedMs = Math.min(failure.waitedMs ?? waited, waited);
    }
    if (evidence !== NO_EVIDENCE && failure.samples.length < MAX_SAMPLES) {
      const said =
        typeof instance === 'object'
          ? `; the instance (${instance.source}) answered ${instance.status} after ${Math.round(instance.durationMs)} ms`
          : outcome === 'unseen'
            ? '; no instance line for this request id'
            : '';
      failure.samples.push({ ...evidence, line: `${evidence.line}${said}` });
    }
  }

  /** One copy of each endpoint, not one per waiting line (a string cut from a line keeps the line). */
  #intern(endpoint: string): string {
    const known = this.#endpoints.get(endpoint);
    if (known !== undefined) return known;
    if (this.#endpoints.size >= MAX_ENDPOINTS) return OTHERS;
    const copy = Buffer.from(endpoint.slice(0, 200)).toString();
    this.#endpoints.set(copy, copy);
    return copy;
  }

  #server(name: string): ServerView | undefined {
    if (name === '<NOSRV>') return undefined;
    let view = this.servers.get(name);
    if (!view) {
      if (this.servers.size >= MAX_SERVERS) return undefined;
      view = { name, lines: 0, failures: 0, unseen: 0, lastWall: Number.NEGATIVE_INFINITY };
      this.servers.set(name, view);
    }
    return view;
  }
}

const NO_EVIDENCE: EvidenceLine = { at: '', line: '' };

/** A 5xx HAProxy made: its termination state says it ended the request, or no server was chosen. */
export function madeByBalancer(line: BalancerLine): boolean {
  if (line.status < 500) return false;
  return line.server === '<NOSRV>' || line.state.cause !== '-';
}

export function failureKind(line: BalancerLine): BalancerFailureKind {
  const { cause, phase } = line.state;
  if (line.server === '<NOSRV>') {
    // `L`: HAProxy answered it locally, by a rule: the shipped configuration's refusal of a checkout past
    // every instance's admission limit (503 SERVER_OVERLOADED).
    if (cause === 'L' && line.status === 503) return 'shed_at_edge';
    return phase === 'Q' ? 'queue_timeout' : 'no_server';
  }
  if (phase === 'Q') return 'queue_timeout';
  if (cause === 's') return 'server_timeout';
  if (cause === 'S' && phase === 'C') return 'connection_refused';
  if (cause === 'S' || cause === 'D') return 'server_aborted';
  if (cause === 'C' || cause === 'c') return 'client_gone';
  return 'balancer_other';
}

/** When HAProxy finished the request: its accept date plus what it took after the request was read. */
function completion(line: BalancerLine): number {
  const { request, total } = line.timers;
  return line.wallTime + Math.max(0, total - Math.max(0, request));
}

/** How long the balancer waited on the server for its answer before giving up. */
function waitedOnServer(line: BalancerLine): number | undefined {
  const { request, queue, connect, total } = line.timers;
  if (total < 0) return undefined;
  return Math.max(0, total - Math.max(0, request) - Math.max(0, queue) - Math.max(0, connect));
}

/** `checkout-2.3.log.gz` → `checkout-2`: the instance a log file is of. */
export function instanceOf(file: string): string {
  return file.replace(/(\.\d+)?\.log(\.gz)?$/, '');
}

function bump(counts: Record<string, number>, key: string): void {
  const counted = key in counts || Object.keys(counts).length < MAX_KEYS ? key : OTHERS;
  counts[counted] = (counts[counted] ?? 0) + 1;
}

/** The zone offset of the machine triage runs on, at that moment: the usual case is the same machine. */
function localZoneMs(wall: number): number {
  const d = new Date(wall);
  const local = new Date(
    d.getUTCFullYear(),
    d.getUTCMonth(),
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
  return local.getTime() - wall;
}

export { describeState };
