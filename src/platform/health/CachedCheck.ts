import { setImmediate as afterIo, setTimeout as sleep } from 'node:timers/promises';

export interface CachedCheckOptions<T> {
  /** The check itself: resolves with its outcome (a failure is an outcome too). */
  run: () => Promise<T>;
  /** A result younger than this is served as it is: the check runs at most once per interval. */
  intervalMs: number;
  /** The longest a reader waits for the check in flight; past it, the answer is `timedOut()`. */
  timeoutMs: number;
  /** What a check that has not settled within `timeoutMs` says. */
  timedOut: () => T;
  /** What a check that threw says. */
  failed: (error: unknown) => T;
  /** Milliseconds on a monotonic clock (tests move it by hand). */
  now?: () => number;
}

/** A run under way: settles once its result is recorded; readers wait for it until the deadline. */
interface Flight {
  settled: Promise<void>;
  deadline: number;
}

/** A result, and how long ago (ms) it was true. */
export interface CheckReading<T> {
  value: T;
  ageMs: number;
}

/**
 * A health check that costs the same whatever the number of readers: at most one run in flight and at
 * most one run per interval, every reader in between served the last result (at most an interval and
 * a time box old), and every reader answered within the time box even while a run hangs. A flood of probes then costs the checked
 * resource nothing more than one probe does, and a slow check never makes a slow answer.
 *
 * A hung run is not abandoned for a second one (that would be two in flight): the check must settle
 * by itself (the probe pool's own timeouts do), and until then readers are told it timed out.
 */
export class CachedCheck<T> {
  readonly #options: CachedCheckOptions<T>;
  readonly #now: () => number;
  #last: { value: T; at: number } | undefined;
  #inFlight: Flight | undefined;
  #runs = 0;

  constructor(options: CachedCheckOptions<T>) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** How many times the check has been started. */
  get runs(): number {
    return this.#runs;
  }

  async read(): Promise<CheckReading<T>> {
    const { intervalMs, timeoutMs } = this.#options;
    const startedAt = this.#now();
    const last = this.#last;
    const age = last ? startedAt - last.at : Number.POSITIVE_INFINITY;
    if (last && age < intervalMs) return { value: last.value, ageMs: age };
    const flight = this.#inFlight ?? this.#start(startedAt);
    // While the next run is under way, the last result still vouches for up to a time box more: nobody
    // waits for it, so a flood never piles up behind a run to be let go all at once. A run that has not
    // settled by then has timed out, and readers from then on are told so.
    if (last && age < intervalMs + timeoutMs) return { value: last.value, ageMs: age };
    const remaining = flight.deadline - startedAt;
    if (remaining > 0) {
      const timer = new AbortController();
      await Promise.race([
        flight.settled,
        sleep(remaining, undefined, { signal: timer.signal, ref: false }).catch(() => {}),
      ]);
      timer.abort();
    }
    // Timers run before I/O in each turn of the event loop: on a busy loop the deadline passes while the
    // check's answer already waits to be read. One turn of I/O first, so lag is not taken for a hang.
    if (this.#inFlight === flight) await afterIo();
    const settled = this.#last;
    if (settled && settled !== last) return { value: settled.value, ageMs: this.#now() - settled.at };
    return { value: this.#options.timedOut(), ageMs: Math.max(0, this.#now() - flight.deadline) };
  }

  #start(at: number): Flight {
    this.#runs++;
    const record = (value: T) => {
      this.#last = { value, at: this.#now() };
      this.#inFlight = undefined;
    };
    let outcome: Promise<T>;
    try {
      outcome = this.#options.run();
    } catch (error) {
      outcome = Promise.reject(error);
    }
    const settled = outcome.then(record, (error: unknown) => record(this.#options.failed(error)));
    const flight = { settled, deadline: at + this.#options.timeoutMs };
    this.#inFlight = flight;
    return flight;
  }
}
