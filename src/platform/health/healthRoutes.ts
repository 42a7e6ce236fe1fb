import { getHeapStatistics } from 'node:v8';
import pg from 'pg';
import type { Static } from 'typebox';
import Type from 'typebox';
import { healthSettings } from '../config/settings.ts';
import type { HttpDependency } from '../dependency/HttpDependency.ts';
import type { HttpServer } from '../http/createHttpServer.ts';
import { CachedCheck } from './CachedCheck.ts';

const HealthSettings = Type.Object(healthSettings);
type HealthSettings = Static<typeof HealthSettings>;

export interface HealthOptions {
  /** Database to probe (it answers, and takes writes), on a connection of its own so a busy pool cannot starve it. */
  databaseUrl?: string;
  dependencies: readonly HttpDependency[];
  /**
   * HEALTH_CHECK_TIMEOUT_MS is each check's time box: the answer comes within it even when the database
   * hangs. HEALTH_CHECK_INTERVAL_MS is how often the database is asked at most.
   */
  settings: HealthSettings;
  isDraining: () => boolean;
}

/** What the last database check found. */
interface DatabaseStatus {
  ok: boolean;
  latencyMs: number;
  problem?: string;
}

/**
 * `/health/live` says the process runs (it touches nothing else). `/health/ready` and `/health` say
 * whether a load balancer should send traffic here: 200 only when every check passes, 503 otherwise.
 * Their database check is cached (CachedCheck), so any number of probes costs the database at most
 * one round trip per interval.
 *
 * They are served on every listener given (the API's, and the management listener when there is one),
 * from the one cache. A balancer checks the management listener: libuv accepts one connection per turn
 * of the event loop, so on the API's listener a check waits behind every new connection of a flood,
 * one turn each, while on a listener of its own it waits for one turn at most.
 */
export function registerHealthRoutes(
  listeners: readonly (HttpServer | undefined)[],
  options: HealthOptions,
): void {
  const servers = listeners.filter((server): server is HttpServer => server !== undefined);
  const timeoutMs = options.settings.HEALTH_CHECK_TIMEOUT_MS;
  const probePool = options.databaseUrl
    ? new pg.Pool({
        connectionString: options.databaseUrl,
        application_name: 'health-check',
        max: 1,
        // Readers are answered within the time box by the cache; these only make a hung probe settle by
        // itself (the one check in flight must end), later than the time box so that a busy event loop
        // reading a prompt answer late is not taken for a timeout.
        connectionTimeoutMillis: probeSettleMs(timeoutMs),
        query_timeout: probeSettleMs(timeoutMs),
        statement_timeout: timeoutMs,
      })
    : undefined;
  probePool?.on('error', () => {});
  const database = probePool ? databaseCheck(probePool, options.settings) : undefined;
  const ready = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const report = await readiness(database, options);
    reply.code(report.status === 'healthy' ? 200 : 503).header('cache-control', 'no-store');
    return report;
  };
  // The probe's connection lasts as long as the last listener that answers with it.
  let open = servers.length;
  for (const app of servers) {
    app.addHook('onClose', async () => {
      if (--open === 0) await probePool?.end();
    });
    app.get('/health/live', { schema: { hide: true } }, async () => ({
      status: 'alive',
      uptimeSeconds: Math.round(process.uptime()),
    }));
    app.get('/health/ready', { schema: { hide: true } }, ready);
    app.get('/health', { schema: { hide: true } }, ready);
  }
}

/**
 * When a probe that has not answered gives up: several time boxes, so that readers see its timeout first
 * and an event loop that lags under a flood (it reads a prompt answer late) is not taken for a hang.
 */
function probeSettleMs(timeoutMs: number): number {
  return timeoutMs * 5;
}

/** The database check's problem when the node answers but takes no writes. */
export const READ_ONLY = 'Database is read-only (a standby, or a primary a failover demoted)';

function databaseCheck(probePool: pg.Pool, settings: HealthSettings): CachedCheck<DatabaseStatus> {
  const timeoutMs = settings.HEALTH_CHECK_TIMEOUT_MS;
  const timedOut = `Connection timeout after ${timeoutMs}ms`;
  return new CachedCheck<DatabaseStatus>({
    intervalMs: settings.HEALTH_CHECK_INTERVAL_MS,
    timeoutMs,
    run: async () => {
      const started = performance.now();
      const latencyMs = () => Math.round(performance.now() - started);
      try {
        const client = await probePool.connect();
        // A connection cut under its query (a failover: HAProxy cuts the old primary's sessions) rejects
        // the query, and also emits 'error' on the client, which the pool stops listening to once it is
        // checked out: unheard, that event ends the process.
        const cut = () => {};
        client.on('error', cut);
        let writable = false;
        try {
          // As cheap as SELECT 1, and it tells a node that takes writes from a standby (or a primary a
          // failover demoted): an instance whose writes would all fail is not ready.
          const { rows } = await client.query<{ writable: boolean }>(
            "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable",
          );
          writable = rows[0]?.writable === true;
        } finally {
          // Its connection is not kept on a read-only node: the next check connects again, to wherever
          // the address leads after the failover.
          client.off('error', cut);
          client.release(!writable);
        }
        if (!writable) return { ok: false, latencyMs: latencyMs(), problem: READ_ONLY };
        return { ok: true, latencyMs: latencyMs() };
      } catch (error) {
        const { code, message } = error as { code?: string; message?: string };
        const problem =
          code === 'ECONNREFUSED'
            ? 'Connection refused'
            : /timeout/i.test(message ?? '')
              ? timedOut
              : 'Database error';
        return { ok: false, latencyMs: latencyMs(), problem };
      }
    },
    timedOut: () => ({ ok: false, latencyMs: timeoutMs, problem: timedOut }),
    failed: () => ({ ok: false, latencyMs: 0, problem: 'Database error' }),
  });
}

async function readiness(database: CachedCheck<DatabaseStatus> | undefined, options: HealthOptions) {
  const { HEALTH_MEMORY_MAX_PCT: memoryMaxPct } = options.settings;
  const problems: string[] = [];
  const body: Record<string, unknown> = { status: 'healthy' };

  if (options.isDraining()) problems.push('draining');

  if (database) {
    const { value, ageMs } = await database.read();
    body.db = value.ok ? 'connected' : value.problem === READ_ONLY ? 'read_only' : 'unreachable';
    body.dbLatencyMs = value.latencyMs;
    // The result may be up to HEALTH_CHECK_INTERVAL_MS old: the body says how old.
    body.dbCheckedMsAgo = Math.round(ageMs);
    if (value.problem) problems.push(value.problem);
  }

  // The heap alone: process.memoryUsage() would also read the RSS from the kernel on every probe.
  const heapStats = getHeapStatistics();
  const heap = heapStats.used_heap_size / heapStats.heap_size_limit;
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
