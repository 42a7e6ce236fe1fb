/**
 * Cumulative bucket counts (upper bound in seconds → count) of one series of a histogram in a scrape, or
 * in several scrapes one after the other (a fleet's): their counts add up.
 */
function buckets(scrape: string, metric: string, labels: Record<string, string>): Map<number, number> {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const found = new Map<number, number>();
  for (const line of scrape.split('\n')) {
    if (!line.startsWith(`${metric}_bucket{`) || !wanted.every((l) => line.includes(l))) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!le) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    found.set(bound, (found.get(bound) ?? 0) + value);
  }
  return found;
}

/**
 * The q-quantile, as the server measured it, of the requests answered between two scrapes: the upper
 * bound of the first bucket holding it (so "≤ 10 ms"), in ms. The client's view adds its own queueing,
 * which on a machine the load generator shares is mostly the generator's.
 */
export function serverQuantileMs(
  before: string,
  after: string,
  labels: Record<string, string>,
  q: number,
): number {
  const start = buckets(before, 'http_request_duration_seconds', labels);
  const end = [...buckets(after, 'http_request_duration_seconds', labels)].sort(([a], [b]) => a - b);
  const total = (end.at(-1)?.[1] ?? 0) - (start.get(Number.POSITIVE_INFINITY) ?? 0);
  for (const [le, count] of end) {
    if (count - (start.get(le) ?? 0) >= q * total) return le * 1000;
  }
  return Number.NaN;
}
