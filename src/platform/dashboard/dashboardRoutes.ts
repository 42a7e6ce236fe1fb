import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Metrics } from '../../contract/metrics.ts';
import { type LiveEvidence, LiveVerdict } from '../../triage/liveVerdict.ts';
import { type HttpServer, isOperationalRoute } from '../http/createHttpServer.ts';
import { securePage } from '../http/pageSecurity.ts';
import type { PlatformMetrics } from '../metrics/PlatformMetrics.ts';
import type { RecentErrors } from './RecentErrors.ts';

const UPLOT_DIST = dirname(createRequire(import.meta.url).resolve('uplot'));
const asset = (name: string) => readFileSync(join(UPLOT_DIST, name));
const own = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url));

/** Requests that watch the service itself (probes, scrapes, this page) are left out of its traffic. */
const watching = (route: string) => isOperationalRoute(route) || route.startsWith('/dashboard');

/** A tile a service adds to its dashboard: one gauge of its own, and when its value is bad news. */
export interface DashboardTile {
  /** The tile's element id on the page. */
  id: string;
  label: string;
  /** A gauge the service registers (its first sample is shown). */
  metric: string;
  /** The value is shown as bad above this. */
  badAbove: number;
}

interface Sample {
  value: number;
  metricName?: string;
  labels: Record<string, string | number | undefined>;
}

/**
 * `GET /dashboard`: request rate, 5xx rate, p50/p99, breakers, pool, and the latest 5xx with their
 * errorIds, drawn with uPlot from the service's own metrics (no Prometheus needed). The page polls
 * `GET /dashboard/data`, cumulative counts it turns into rates itself.
 *
 * Its headline is triage's verdict on this instance: the platform calls triage's entry itself (triage
 * is a leaf that imports nothing of the platform or a service), so that every service's dashboard says
 * why in the same words `steadfast triage` would, from evidence any service has: its own scrape, its
 * health, its log file and its peers. The service only says where those are (`verdict`).
 */
export function registerDashboard(
  app: HttpServer,
  options: {
    title: string;
    metrics: PlatformMetrics;
    recentErrors: RecentErrors;
    /** The service's own tiles, after the platform's. */
    tiles?: readonly DashboardTile[];
    /** Where the verdict's evidence is besides the instance's own metrics: its health, log file, peers. */
    verdict?: Omit<LiveEvidence, 'scrape'>;
  },
): void {
  const verdict = new LiveVerdict({ scrape: () => options.metrics.scrape(), ...options.verdict });
  // Every answer carries the page's policy: its script runs from files served here, nothing inline.
  const route = { schema: { hide: true }, onRequest: securePage() };
  const files: [path: string, type: string, content: Buffer, cache: string][] = [
    ['/dashboard', 'text/html; charset=utf-8', own('dashboard.html'), 'no-cache'],
    ['/dashboard/dashboard.js', 'text/javascript; charset=utf-8', own('dashboard.js'), 'no-cache'],
    ['/dashboard/dashboard.css', 'text/css; charset=utf-8', own('dashboard.css'), 'no-cache'],
    ['/dashboard/uplot.js', 'text/javascript; charset=utf-8', asset('uPlot.iife.min.js'), 'max-age=86400'],
    ['/dashboard/uplot.css', 'text/css; charset=utf-8', asset('uPlot.min.css'), 'max-age=86400'],
  ];
  for (const [path, type, content, cache] of files) {
    app.get(path, route, async (_request, reply) =>
      reply.type(type).header('cache-control', cache).send(content),
    );
  }
  app.get('/dashboard/data', route, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    // The last verdict at once; a new run starts when it is due, and never holds this answer.
    return { ...(await snapshot(options)), verdict: verdict.current() ?? null };
  });
}

async function samples(metrics: PlatformMetrics, name: string): Promise<Sample[]> {
  return ((await metrics.registry.getSingleMetric(name)?.get())?.values ?? []) as Sample[];
}

async function snapshot(options: Parameters<typeof registerDashboard>[1]) {
  const { metrics } = options;
  const traffic = (s: Sample) => !watching(String(s.labels.route));
  const requests = (await samples(metrics, Metrics.httpRequests.name)).filter(traffic);
  // Cumulative bucket counts of all traffic, by upper bound: the page takes p50/p99 from their deltas.
  const buckets = new Map<number, number>();
  for (const s of await samples(metrics, Metrics.httpRequestDuration.name)) {
    if (s.metricName !== `${Metrics.httpRequestDuration.name}_bucket` || !traffic(s)) continue;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  const gauge = async (name: string) => (await samples(metrics, name))[0]?.value;
  return {
    title: options.title,
    time: Date.now(),
    requests: requests.reduce((sum, s) => sum + s.value, 0),
    errors5xx: requests
      .filter((s) => String(s.labels.status_code).startsWith('5'))
      .reduce((sum, s) => sum + s.value, 0),
    buckets: [...buckets]
      .sort(([a], [b]) => a - b)
      .map(([le, count]) => [Number.isFinite(le) ? le : null, count]),
    breakers: Object.fromEntries(
      (await samples(metrics, Metrics.breakerState.name)).map((s) => [
        s.labels.dependency,
        ['CLOSED', 'HALF_OPEN', 'OPEN'][s.value],
      ]),
    ),
    pool: Object.fromEntries([
      ...(await samples(metrics, Metrics.poolConnections.name)).map(
        (s) => [s.labels.state, s.value] as const,
      ),
      ['max', await gauge(Metrics.poolMaxConnections.name)] as const,
    ]),
    tiles: await Promise.all(
      (options.tiles ?? []).map(async ({ id, label, metric, badAbove }) => {
        const value = await gauge(metric);
        return { id, label, value: value ?? null, bad: value !== undefined && value > badAbove };
      }),
    ),
    recentErrors: options.recentErrors.list(),
  };
}
