import { dirname } from 'node:path';
import type { Static, TObject } from 'typebox';
import { HEARTBEAT_INTERVAL_MS, logEvent } from '../../contract/logEvents.ts';
import { configHash, secretSettings } from '../config/configHash.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { type AdmissionAgent, listenAdmissionAgent } from '../http/admissionAgent.ts';
import { createHttpServer, type HttpServer } from '../http/createHttpServer.ts';
import { managementAddress } from '../http/managementAddress.ts';
import { createBootLogger, createLogger, type Logger } from '../logging/createLogger.ts';
import { SyslogShipper } from '../logging/SyslogShipper.ts';
import { diskPathsFrom, PlatformMetrics } from '../metrics/PlatformMetrics.ts';
import { type PreflightCheck, reportStartupFailure, runPreflight } from '../preflight/preflight.ts';
import { startTracing, type TracingSettings } from '../tracing/startTracing.ts';
import { buildInfo } from './buildInfo.ts';
import { runUntilStopped, type ShutdownState } from './runUntilStopped.ts';

interface BaseSettings extends TracingSettings {
  NODE_ENV: string;
  HOST: string;
  PORT: number;
  MANAGEMENT_HOST: string;
  MANAGEMENT_PORT?: number | undefined;
  ADMISSION_AGENT_PORT?: number | undefined;
  BODY_LIMIT_BYTES: number;
  HEADERS_TIMEOUT_MS: number;
  REQUEST_TIMEOUT_MS: number;
  KEEP_ALIVE_TIMEOUT_MS: number;
  LOG_LEVEL: string;
  LOG_FILE?: string | undefined;
  LOG_FILE_MAX_SIZE: string;
  LOG_FILE_RETENTION: number;
  LOG_SYSLOG_URL?: string | undefined;
  LOG_SYSLOG_NAME?: string | undefined;
  LOG_SYSLOG_BUFFER_BYTES: number;
  METRICS_DISK_PATHS: string;
  METRICS_ENABLED: boolean;
  SHUTDOWN_DRAIN_DELAY_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
}

export interface RunningService {
  app: HttpServer;
  /** Closes what the service opened besides the listener (pools, clients, timers). */
  closeResources: () => Promise<void>;
  /** Extra facts for the `service_started` line (schema version, dependency URLs). */
  startedFields?: Record<string, unknown>;
  /** Requests let in at once now: what the balancer's agent check reports (ADMISSION_AGENT_PORT). */
  admissionLimit?: () => number;
}

/** What the platform hands a service to build itself with. */
export interface ServiceContext {
  logger: Logger;
  state: ShutdownState;
  /** The service's metrics, served at `GET /metrics`; the service passes it to its server, pools and clients. */
  metrics: PlatformMetrics;
  /**
   * The management listener, when the operator's surfaces listen apart from the API (MANAGEMENT_PORT; by
   * default in production): it serves `/metrics` already; the service registers its dashboard and API
   * reference on it, and creates its own server with `metricsRoute: false`. Undefined: all on one server.
   */
  management?: HttpServer | undefined;
}

export interface ServiceSpec<S extends TObject> {
  service: string;
  schema: S;
  requiredInProduction?: readonly (keyof Static<S> & string)[];
  /** Secrets whose names do not say so, left out of `configHash` (see configHash) and of the logs. */
  secretSettings?: readonly (keyof Static<S> & string)[];
  /** Fields of the service's own log objects that may carry a secret (pino redaction paths). */
  redactPaths?: readonly string[];
  preflight: (config: Static<S>) => PreflightCheck[];
  build: (config: Static<S>, context: ServiceContext) => Promise<RunningService>;
}

export type PreflightOutcome<S extends TObject> =
  | { ok: true; config: Static<S> }
  | { ok: false; problems: string[] };

/** Configuration then every preflight check; all problems together, nothing bound, nothing started. */
export async function preflightService<S extends TObject>(
  spec: ServiceSpec<S>,
  env: NodeJS.ProcessEnv,
): Promise<PreflightOutcome<S>> {
  const loaded = loadConfig(spec.schema, env, { requiredInProduction: spec.requiredInProduction ?? [] });
  if (!loaded.ok) return loaded;
  const problems = await runPreflight(spec.preflight(loaded.config));
  return problems.length > 0 ? { ok: false, problems } : loaded;
}

/**
 * The life of a service process: preflight before any port is bound (exit 1 with every problem),
 * then build, listen, announce `service_started`, and run until a signal or a fatal error.
 */
export async function bootService<S extends TObject>(spec: ServiceSpec<S>, env = process.env): Promise<void> {
  const { version, commit } = buildInfo();
  const outcome = await preflightService(spec, env);
  if (!outcome.ok) {
    reportStartupFailure(outcome.problems, createBootLogger(spec.service, version));
    return;
  }
  const config = outcome.config as Static<S> & BaseSettings;
  let logger: Logger | undefined;
  const collector = config.LOG_SYSLOG_URL;
  const shipper = collector
    ? new SyslogShipper({
        url: collector,
        appName: config.LOG_SYSLOG_NAME ?? spec.service,
        bufferBytes: config.LOG_SYSLOG_BUFFER_BYTES,
        onResume: (dropped) =>
          logger && logEvent(logger, 'warn', 'log_lines_dropped', { dropped, collector }),
      })
    : undefined;
  logger = await createLogger({
    service: spec.service,
    version,
    commit,
    level: config.LOG_LEVEL,
    // Every setting that is a secret, wherever a log object names it, and the service's own paths.
    redact: [
      ...secretSettings(Object.keys(spec.schema.properties), spec.secretSettings),
      ...(spec.redactPaths ?? []),
    ],
    file: config.LOG_FILE
      ? { path: config.LOG_FILE, maxSize: config.LOG_FILE_MAX_SIZE, retention: config.LOG_FILE_RETENTION }
      : undefined,
    ship: shipper,
  });
  // The process's first line: where a reader of the logs (triage) begins this run of the instance.
  logEvent(logger, 'info', 'service_starting', { nodeVersion: process.version });
  // Before the service is built: its pools and clients are instrumented as they are made.
  const tracing = startTracing({ name: spec.service, version, logger }, config);
  const state: ShutdownState = { draining: false };
  const metrics = new PlatformMetrics(spec.service, { recording: config.METRICS_ENABLED });
  for (const [name, path] of diskPathsFrom(config.METRICS_DISK_PATHS)) metrics.watchDisk(name, path);
  if (config.LOG_FILE) metrics.watchDisk('logs', dirname(config.LOG_FILE));
  if (shipper) metrics.watchLogShipper(shipper);
  const managementAt = managementAddress(config);
  const management = managementAt
    ? createHttpServer({
        logger,
        metrics,
        bodyLimit: config.BODY_LIMIT_BYTES,
        headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
        requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
        keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS,
        isDraining: () => state.draining,
      })
    : undefined;
  const running = await spec.build(config, { logger, state, metrics, management });
  // Listens below, once the management listener does; declared here for the shutdown to close it.
  let agent: AdmissionAgent | undefined;
  // Every service's, whatever its build passed: idle connections outlive the balancer's own (doctor checks).
  running.app.server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
  runUntilStopped({
    logger,
    state,
    drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    // The management listener closes last: the shutdown can be watched to its end.
    close: async () => {
      await running.app.close();
      await running.closeResources();
      // The spans of the last requests go out before the process does.
      await tracing.shutdown();
      await agent?.close();
      await management?.close();
    },
    flushLogs: shipper && (() => shipper.close()),
  });
  // Before the API's port opens: an instance the load balancer sends traffic to can always be watched.
  const managementUrl = managementAt ? await management?.listen(managementAt) : undefined;
  agent =
    config.ADMISSION_AGENT_PORT !== undefined && running.admissionLimit
      ? await listenAdmissionAgent({
          host: config.MANAGEMENT_HOST,
          port: config.ADMISSION_AGENT_PORT,
          limit: running.admissionLimit,
          logger,
        })
      : undefined;
  // Node's default accept queue (511) overflows under a storm of new connections: the kernel then drops
  // handshakes, and a load balancer's check caught among them waits seconds for SYN retransmits. The
  // kernel caps this at net.core.somaxconn.
  const address = await running.app.listen({ host: config.HOST, port: config.PORT, backlog: 4096 });
  const bound = running.app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.PORT;
  // The ports bound, not asked for: a start on port 0 and its restart on the port it got (as the
  // supervisor restarts it) ran with the same settings.
  const effective = {
    ...config,
    PORT: port,
    ...(managementUrl ? { MANAGEMENT_PORT: Number(new URL(managementUrl).port) } : {}),
    ...(agent ? { ADMISSION_AGENT_PORT: agent.port } : {}),
  };
  logEvent(
    logger,
    'info',
    'service_started',
    {
      url: address,
      port,
      ...(managementUrl ? { managementUrl } : {}),
      ...(agent ? { admissionAgentPort: agent.port } : {}),
      nodeVersion: process.version,
      // Same version, other hash: the configuration changed, not the code.
      configHash: configHash(effective, spec.secretSettings ?? []),
      // Whether this instance's spans reach a collector (OTEL_EXPORTER_OTLP_ENDPOINT), or are only propagated.
      tracesExported: tracing.exporting,
      ...running.startedFields,
    },
    'service_started',
  );
  // While it runs, a line a minute however idle it is: an instance whose heartbeat stops while others
  // go on logging has died without a word (a machine gone), as triage tells from a collector's copy.
  setInterval(
    () => logEvent(logger, 'info', 'service_alive', { uptimeSeconds: Math.round(process.uptime()) }),
    HEARTBEAT_INTERVAL_MS,
  ).unref();
  // Under `steadfast start` the supervisor waits for this message to learn the bound ports.
  process.send?.({
    type: 'listening',
    service: spec.service,
    url: address,
    managementUrl,
    ...(agent ? { admissionAgentPort: agent.port } : {}),
  });
}
