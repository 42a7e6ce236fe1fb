/**
 * How many requests of a route an instance lets in at once, adapted to the latency they meet: TCP
 * Vegas's congestion control as Netflix's concurrency-limits applies it to a server. A static cap is
 * right for one instance on a quiet machine and wrong for three sharing a database and two cores: there,
 * each request let in past what the machine can work on only waits for what the others hold, every answer
 * comes later, and the ones that would have been refused at once sit in the same queue.
 *
 * Vegas compares the latency of each window of answers with the least latency seen (the route with no
 * queue ahead of it): `limit x (1 - least / latency)` is how many of the requests let in are only
 * waiting. Fewer than `alpha` waiting: room to grow; more than `beta`: the limit comes down. Both grow
 * with the logarithm of the limit, as does each step. The least latency is measured again now and then
 * (its "probe"), so that a route that became slower for good, a bigger cart or a slower gateway, is not
 * held to what it once was.
 *
 * Samples are gathered in windows of at least `windowSize` answers and `minWindowMs`; the limit moves at
 * most once a window, on its mean latency, and never while the route used less than half of it (nothing
 * to learn from an idle route). It starts at `maxLimit`, the capacity the route's bulkheads can take,
 * and moves between `minLimit` and it.
 */
export interface VegasLimitOptions {
  maxLimit: number;
  minLimit: number;
  windowSize?: number;
  minWindowMs?: number;
  /** The least latency is measured again after about this many windows times the limit. */
  probeMultiplier?: number;
  /** A number in [0, 1) for the probe's jitter; Math.random by default. */
  random?: () => number;
}

/** At least 1: the steps and thresholds of a small limit. */
const log10 = (limit: number) => Math.max(1, Math.floor(Math.log10(limit)));

export class VegasLimit {
  readonly #options: Required<VegasLimitOptions>;
  #estimate: number;
  #leastMs = Number.POSITIVE_INFINITY;
  #windowsToProbe: number;
  #window = { startedAt: Number.NaN, samples: 0, totalMs: 0, maxInFlight: 0 };

  constructor(options: VegasLimitOptions) {
    if (!(options.minLimit >= 1 && options.maxLimit >= options.minLimit)) {
      throw new RangeError(
        `a limit needs 1 <= minLimit <= maxLimit, not ${options.minLimit}..${options.maxLimit}`,
      );
    }
    this.#options = { windowSize: 10, minWindowMs: 100, probeMultiplier: 3, random: Math.random, ...options };
    this.#estimate = options.maxLimit;
    this.#windowsToProbe = this.#nextProbe();
  }

  /** Requests let in at once now. */
  get limit(): number {
    return Math.floor(this.#estimate);
  }

  /** One request answered: how long it took (ms) and how many were in at once when it was let in. */
  onSample(latencyMs: number, inFlight: number, now = performance.now()): void {
    const window = this.#window;
    if (Number.isNaN(window.startedAt)) window.startedAt = now;
    window.samples++;
    window.totalMs += latencyMs;
    window.maxInFlight = Math.max(window.maxInFlight, inFlight);
    if (window.samples < this.#options.windowSize || now - window.startedAt < this.#options.minWindowMs)
      return;
    this.#update(window.totalMs / window.samples, window.maxInFlight);
    this.#window = { startedAt: now, samples: 0, totalMs: 0, maxInFlight: 0 };
  }

  #nextProbe(): number {
    // Jittered, so that instances started together do not all probe in the same second.
    return Math.ceil((0.5 + this.#options.random() / 2) * this.#options.probeMultiplier * this.#estimate);
  }

  #update(latencyMs: number, maxInFlight: number): void {
    if (--this.#windowsToProbe <= 0) {
      this.#leastMs = latencyMs;
      this.#windowsToProbe = this.#nextProbe();
      return;
    }
    if (latencyMs < this.#leastMs) {
      this.#leastMs = latencyMs;
      return;
    }
    if (maxInFlight * 2 < this.#estimate) return;
    const limit = this.#estimate;
    const waiting = Math.ceil(limit * (1 - this.#leastMs / latencyMs));
    const step = log10(limit);
    let next = limit;
    if (waiting <= step) next = limit + 6 * step;
    else if (waiting < 3 * step) next = limit + step;
    else if (waiting > 6 * step) next = limit - step;
    this.#estimate = Math.max(this.#options.minLimit, Math.min(this.#options.maxLimit, next));
  }
}
