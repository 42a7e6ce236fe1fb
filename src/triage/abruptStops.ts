import type { EvidenceLine } from './LogEvidence.ts';

/**
 * An instance whose lines stopped without its shutdown being logged: it was killed (SIGKILL, the OOM
 * killer) or its machine died. Restarted, the next `service_started` says so; not restarted, its lines
 * simply end while the others' go on, which only a copy kept off the machine (the central logs) can show.
 */
export interface AbruptStop {
  /** `checkout-1`: the file's name without its day and rotation, or the service's name on standard input. */
  instance: string;
  service: string;
  /** The last line it wrote. */
  lastLine: EvidenceLine;
  /** When it started again, if it did. */
  restartedAt?: number;
  /** Not restarted: how long the other instances went on logging after its last line. */
  silentForMs?: number;
}

/** Another instance logging this long after an instance's last line: that one is not just idle. */
export const SILENCE_MS = 60_000;
const MAX_INSTANCES = 1000;
const MAX_STOPS = 100;

/** `checkout-1-2026-12-04.log`, `checkout-1-2026-12-03.log.gz`, `checkout.2.log.gz`: `checkout-1`, `checkout`. */
const INSTANCE_OF_FILE = /^(?<instance>.+?)(?:-\d{4}-\d{2}-\d{2})?(?:\.\d+)?\.log(?:\.gz)?$/;

interface Run {
  service: string;
  /** The process, when its lines say (older lines carry no pid: then a `service_started` starts a run). */
  pid: number | undefined;
  lastTime: number;
  lastLine: EvidenceLine;
  /** Its end was logged: `shutdown_complete`, a fatal error or a startup failure, which say why it went. */
  ended: boolean;
}

/** A line as the stops are told from: its instance's service and process, and whether it starts or ends a run. */
export interface RunLine {
  service: string;
  pid: number | undefined;
  event: 'started' | 'ended' | 'other';
  time: number;
}

/** Follows each instance's runs from start to logged end, and tells the runs that had none. */
export class AbruptStops {
  readonly #runs = new Map<string, Run>();
  readonly #stops: AbruptStop[] = [];
  #newest = Number.NEGATIVE_INFINITY;

  /** The instance a line of `file` belongs to. */
  static instanceOf(file: string, service: string): string {
    return file === 'stdin' ? service : (INSTANCE_OF_FILE.exec(file)?.groups?.instance ?? file);
  }

  /** One line of an instance, in the order its files are read (oldest first). */
  observe(file: string, line: RunLine, evidence: () => EvidenceLine): void {
    const instance = AbruptStops.instanceOf(file, line.service);
    this.#newest = Math.max(this.#newest, line.time);
    const run = this.#runs.get(instance);
    if (!run && this.#runs.size >= MAX_INSTANCES) return;
    // Lines of a run that came before its last one (files read out of order) change nothing.
    if (run && line.time < run.lastTime) return;
    const newRun =
      !run ||
      (line.pid !== undefined && run.pid !== undefined ? line.pid !== run.pid : line.event === 'started');
    if (run && newRun && !run.ended) {
      this.#stop({ instance, service: run.service, lastLine: run.lastLine, restartedAt: line.time });
    }
    this.#runs.set(instance, {
      service: line.service,
      pid: line.pid ?? (newRun ? undefined : run?.pid),
      lastTime: line.time,
      lastLine: evidence(),
      ended: line.event === 'ended' || (!newRun && run?.ended === true),
    });
  }

  /** Every abrupt stop: those followed by a restart, then the instances that went silent while others logged. */
  stops(): AbruptStop[] {
    const silent = [...this.#runs]
      .filter(([, run]) => !run.ended && this.#newest - run.lastTime >= SILENCE_MS)
      .map(([instance, run]) => ({
        instance,
        service: run.service,
        lastLine: run.lastLine,
        silentForMs: this.#newest - run.lastTime,
      }));
    return [...this.#stops, ...silent].slice(0, MAX_STOPS);
  }

  #stop(stop: AbruptStop): void {
    if (this.#stops.length < MAX_STOPS) this.#stops.push(stop);
  }
}
