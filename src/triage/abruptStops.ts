import { HEARTBEAT_INTERVAL_MS } from '../contract/logEvents.ts';
import type { EvidenceLine } from './LogEvidence.ts';

/**
 * An instance whose lines stopped without its shutdown being logged: it was killed (SIGKILL, the OOM
 * killer) or its machine died. Restarted, the next run of it says so; not restarted, its heartbeat
 * (`service_alive`, once a minute) stops while other lines go on, which only a copy kept off the machine
 * (the central logs) can show.
 */
export interface AbruptStop {
  /** `checkout-1`: the file's name without its day and rotation, or the service's name on standard input. */
  instance: string;
  service: string;
  /** The last line it wrote. */
  lastLine: EvidenceLine;
  /** When it started again, if it did. */
  restartedAt?: number;
  /** Its heartbeat overdue: how long other lines went on after its last one. */
  silentForMs?: number;
}

/** A line as the stops are told from: its instance's service and process, and what it says of its run. */
export interface RunLine {
  service: string;
  pid: number | undefined;
  /**
   * `starting`: a process's first line (`service_starting`); `started`: `service_started`, the first
   * marker of older builds; `ended`: an end that says why; `alive`: the heartbeat.
   */
  event: 'starting' | 'started' | 'ended' | 'alive' | 'other';
  time: number;
}

/** Heartbeats missed (two and a half intervals) before a silent instance is taken for dead. */
export const OVERDUE_MS = 2.5 * HEARTBEAT_INTERVAL_MS;
/** Lines of a process before its start marker, when the marker is late (older builds' `service_started`). */
const PRELUDE_MS = 10_000;
const MAX_INSTANCES = 1000;
const MAX_RUNS = 10_000;
const MAX_STOPS = 100;

/** `checkout-1-2026-12-04.log`, `checkout-1-2026-12-03.log.gz`, `checkout.2.log.gz`: `checkout-1`, `checkout`. */
const INSTANCE_OF_FILE = /^(?<instance>.+?)(?:-\d{4}-\d{2}-\d{2})?(?:\.\d+)?\.log(?:\.gz)?$/;

interface Run {
  service: string;
  firstTime: number;
  lastTime: number;
  lastLine: EvidenceLine;
  /** Its end was logged: `shutdown_complete`, a fatal error or a startup failure, which say why it went. */
  ended: boolean;
  marker: 'starting' | 'started' | undefined;
  heartbeats: number;
}

/**
 * Follows each instance's runs (one process's lines, from its start marker to its end) and tells those
 * that ended without a word. Lines of one process are told apart by their pid; a start marker with the
 * same pid (a container's pid 1, again) begins a new run too.
 */
export class AbruptStops {
  /** Instance → its runs, oldest first; the last of a pid is its current one. */
  readonly #runs = new Map<string, Run[]>();
  readonly #current = new Map<string, Map<number | undefined, Run>>();
  #count = 0;
  #newest = Number.NEGATIVE_INFINITY;

  /** The instance a line of `file` belongs to. */
  static instanceOf(file: string, service: string): string {
    return file === 'stdin' ? service : (INSTANCE_OF_FILE.exec(file)?.groups?.instance ?? file);
  }

  /** One line of an instance, in the order its files are read (oldest first). */
  observe(file: string, line: RunLine, evidence: () => EvidenceLine): void {
    const instance = AbruptStops.instanceOf(file, line.service);
    this.#newest = Math.max(this.#newest, line.time);
    let current = this.#current.get(instance);
    if (!current) {
      if (this.#current.size >= MAX_INSTANCES) return;
      current = new Map();
      this.#current.set(instance, current);
    }
    let run = current.get(line.pid);
    // Lines before the last one seen of this process (files read out of order) change nothing.
    if (run && line.time < run.lastTime) return;
    const marker = line.event === 'starting' || line.event === 'started' ? line.event : undefined;
    if (run && marker && !this.#continues(run, marker, line.time)) run = undefined;
    if (!run) {
      if (this.#count >= MAX_RUNS) return;
      this.#count++;
      run = {
        service: line.service,
        firstTime: line.time,
        lastTime: line.time,
        lastLine: evidence(),
        ended: false,
        marker: undefined,
        heartbeats: 0,
      };
      current.set(line.pid, run);
      const runs = this.#runs.get(instance);
      if (runs) runs.push(run);
      else this.#runs.set(instance, [run]);
    }
    run.marker ??= marker;
    run.lastTime = line.time;
    run.lastLine = evidence();
    if (line.event === 'ended') run.ended = true;
    if (line.event === 'alive') run.heartbeats++;
  }

  /**
   * A start marker still belongs to the run: `service_started` after the same process's
   * `service_starting`, or after lines of its own boot that came first (older builds).
   */
  #continues(run: Run, marker: 'starting' | 'started', time: number): boolean {
    if (marker === 'starting' || run.ended) return false;
    return run.marker === 'starting' || (run.marker === undefined && time - run.firstTime <= PRELUDE_MS);
  }

  /**
   * Every abrupt stop, oldest first. A run that ended without a word is one when the next run of its
   * instance began after its last line, or when its heartbeat is overdue while other lines went on.
   * Processes that write under one instance's name at once (a name two instances share) cannot be told
   * from a restart by their order: for them only the heartbeat tells.
   */
  stops(): AbruptStop[] {
    const stops: (AbruptStop & { at: number })[] = [];
    for (const [instance, unsorted] of this.#runs) {
      const runs = [...unsorted].sort((a, b) => a.firstTime - b.firstTime);
      const shared = overlaps(runs);
      runs.forEach((run, index) => {
        if (run.ended) return;
        const next = firstStartingAt(runs, run.lastTime, index + 1);
        const silentForMs = this.#newest - run.lastTime;
        const overdue = run.heartbeats > 0 && silentForMs > OVERDUE_MS;
        if (!overdue && (shared || !next)) return;
        stops.push({
          instance,
          service: run.service,
          lastLine: run.lastLine,
          at: run.lastTime,
          ...(next ? { restartedAt: next.firstTime } : {}),
          ...(overdue ? { silentForMs } : {}),
        });
      });
    }
    return stops
      .sort((a, b) => a.at - b.at)
      .slice(0, MAX_STOPS)
      .map(({ at: _, ...stop }) => stop);
  }
}

/** Whether a run began before an earlier one's last line: processes writing under one name at once. */
function overlaps(runs: readonly Run[]): boolean {
  let lastSoFar = Number.NEGATIVE_INFINITY;
  for (const run of runs) {
    if (run.firstTime < lastSoFar) return true;
    lastSoFar = Math.max(lastSoFar, run.lastTime);
  }
  return false;
}

/** The first run, from `from` on in runs sorted by their first line, that began at `time` or later. */
function firstStartingAt(runs: readonly Run[], time: number, from: number): Run | undefined {
  let low = from;
  let high = runs.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((runs[middle] as Run).firstTime < time) low = middle + 1;
    else high = middle;
  }
  return runs[low];
}
