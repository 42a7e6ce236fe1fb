/** How much memory a run may keep: a floor, plus a share per request served. */
export interface RetentionBound {
  floorMb: number;
  perThousandRequestsMb: number;
}

/**
 * What the soak lets survive a full collection from its warm-up's end to its end: a floor for what one
 * moment of a run holds more than another (requests in flight, the connections a hanging fault holds,
 * code compiled late: about 1 MB measured), plus 256 bytes per request served. A leak of a few
 * kilobytes a request (a closure, a log child, a label set kept per request) fails the suite's 60 s; one
 * of a kilobyte fails the 10-minute run.
 */
export const SOAK_RETENTION: RetentionBound = { floorMb: 4, perThousandRequestsMb: 0.25 };

export interface RetentionVerdict {
  /** The first and last samples as measured. */
  first: number;
  last: number;
  /** Requests served between the first sample and the last. */
  requests: number;
  /** Growth over those requests by the least-squares line through every sample (MB). */
  growthMb: number;
  perThousandMb: number;
  allowedMb: number;
}

/**
 * The growth of a measure (MB) against the requests served when each sample was taken, by a
 * least-squares fit over all of them: one low or high sample moves a line less than it moves a
 * comparison of two points or two halves. A machine twice as fast serves twice the requests and
 * is allowed twice the growth above the floor, so the verdict is the same on either.
 */
export function growthPerRequest(
  samples: readonly (readonly [requests: number, mb: number])[],
  bound: RetentionBound,
): RetentionVerdict {
  const n = samples.length;
  if (n === 0) throw new Error('no samples to judge');
  const xs = samples.map(([x]) => x);
  const ys = samples.map(([, y]) => y);
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const [mx, my] = [mean(xs), mean(ys)];
  const sxx = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  const sxy = xs.reduce((sum, x, i) => sum + (x - mx) * ((ys[i] as number) - my), 0);
  const requests = Math.max(...xs) - Math.min(...xs);
  const first = ys[0] as number;
  const last = ys[n - 1] as number;
  // No request served in between (a stalled stack): nothing to fit; the plain difference is judged.
  const slope = sxx > 0 ? sxy / sxx : 0;
  const growthMb = sxx > 0 ? slope * requests : last - first;
  return {
    first,
    last,
    requests,
    growthMb,
    perThousandMb: slope * 1000,
    allowedMb: bound.floorMb + (bound.perThousandRequestsMb * requests) / 1000,
  };
}
