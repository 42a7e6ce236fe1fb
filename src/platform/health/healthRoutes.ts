import { getHeapStatistics } from 'node:v8';
import pg from 'pg';
import type { Static } from 'typebox';
import Type from 'typebox';
import { healthSettings } from '../config/settings.ts';
import type { HttpDependency } from '../dependency/HttpDependency.ts';
import type { HttpServer } from '../http/createHttpServer.ts';

const HealthSettings = Type.Object(healthSettings);
type HealthSettings = Static<typeof HealthSettings>;

export interface HealthOptions {
  /** Database to probe with `SELECT 1`, on a connection of its own so a busy pool cannot starve it. */
  databaseUrl?: string;
  dependencies: readonly HttpDependency[];
  /** HEALTH_CHECK_TIMEOUT_MS is each check's time box: the answer comes within it even when the database hangs. */
  settings: HealthSettings;
  isDraining: () => boolean;
}

/**
 * `/health/live` says the process runs. `/health/ready` and `/health` say whether a load balancer
 * should send traffic here: 200 only when every check passes, 503 otherwise.
 */
export function registerHealthRoutes(app: HttpServer, options: HealthOptions): void {
  const timeoutMs = options.settings.HEALTH_CHECK_TIMEOUT_MS;
  const probePool = options.databaseUrl
    ? new pg.Pool({
        connectionString: options.databaseUrl,
        application_name: 'health-check',
        max: 1,
        connectionTimeoutMillis: timeoutMs,
        query_timeout: timeoutMs,
        statement_timeout: timeoutMs,
      })
    : undefined;
  probePool?.on('error', () => {});
  app.addHook('onClose', async () => {
    await probePool?.end();
  });

  app.get('/health/live', { schema: { hide: true } }, async () => ({
    status: 'alive',
    uptimeSeconds: Math.round(process.uptime()),
  }));

  const ready = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const report = await readiness(probePool, options);
    reply.code(report.status === 'healthy' ? 200 : 503).header('cache-control', 'no-store');
    return report;
  };
  app.get('/health/ready', { schema: { hide: true } }, ready);
  app.get('/health', { schema: { hide: true } }, ready);
}

async function readiness(probePool: pg.Pool | undefined, options: HealthOptions) {
  const { HEALTH_CHECK_TIMEOUT_MS: timeoutMs, HEALTH_MEMORY_MAX_PCT: memoryMaxPct } = options.settings;
  const problems: string[] = [];
  const body: Record<string, unknown> = { status: 'healthy' };

  if (options.isDraining()) problems.push('draining');

  if (probePool) {
    const started = Date.now();
    const db = await withinTime(probePool.query('SELECT 1'), timeoutMs);
    body.db = db.ok ? 'connected' : 'unreachable';
    body.dbLatencyMs = Date.now() - started;
    if (!db.ok) {
      problems.push(
        db.timedOut
          ? `Connection timeout after ${timeoutMs}ms`
          : db.refused
            ? 'Connection refused'
            : 'Database error',
      );
    }
  }

  const heap = process.memoryUsage().heapUsed / getHeapStatistics().heap_size_limit;
  body.memoryUsagePct = Math.round(heap * 100);
  if (heap * 100 > memoryMaxPct) problems.push(`Memory usage above ${memoryMaxPct}%`);

  body.config = 'loaded';

  const now = Date.now();
  const breakers: Record<string, string> = {};
  for (const dependency of options.dependencies) {
    breakers[dependency.name] = dependency.breakerState;
    const since = dependency.unhealthySince;
    if (
      dependency.breakerState === 'ISOLATED' ||
      (since !== undefined && now - since > options.settings.HEALTH_BREAKER_STUCK_MS)
    ) {
      problems.push(`Circuit breaker for ${dependency.name} stuck open`);
    }
  }
  if (options.dependencies.length > 0) body.circuitBreakers = breakers;

  if (problems.length > 0) {
    body.status = 'unhealthy';
    body.error = problems.join('; ');
  }
  return body;
}

async function withinTime<T>(
  work: Promise<T>,
  ms: number,
): Promise<{ ok: boolean; timedOut: boolean; refused?: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    const outcome = await Promise.race([work.then(() => 'ok' as const), deadline]);
    return { ok: outcome === 'ok', timedOut: outcome === 'timeout' };
  } catch (error) {
    return { ok: false, timedOut: false, refused: (error as { code?: string }).code === 'ECONNREFUSED' };
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
  }
}
