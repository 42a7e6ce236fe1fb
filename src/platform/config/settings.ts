import Type from 'typebox';

/**
 * Settings every service on the platform reads, as schema properties a service spreads into its own
 * `Type.Object`. Each has a default (listed in docs/configuration.md) unless it names something only the
 * operator can know.
 */
/** A duration setting: a whole number of milliseconds, at least 1, whose description the startup failure quotes. */
export const ms = (defaultMs: number, description: string) =>
  Type.Integer({
    minimum: 1,
    default: defaultMs,
    description: `${description} (a whole number of milliseconds)`,
  });

export const httpSettings = {
  NODE_ENV: Type.String({ default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  PUBLIC_URL: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        "an http(s) URL: where clients reach the service (the API document's server; default http://HOST:PORT)",
    }),
  ),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 64 * 1024 }),
  // A client that trickles its request (slow-loris) holds a connection; these bound how long.
  HEADERS_TIMEOUT_MS: ms(5000, "the longest a request's headers may take to arrive; then 408"),
  REQUEST_TIMEOUT_MS: ms(
    10000,
    'the longest a whole request (headers and body) may take to arrive; then 408',
  ),
  // A load balancer reuses idle connections to the instance: the instance must keep them longer than the
  // balancer does (HAProxy's `timeout http-keep-alive`, 10 s), or the balancer sends a request on a
  // connection the instance is closing that very moment and answers 502 (the keep-alive race).
  KEEP_ALIVE_TIMEOUT_MS: ms(
    72000,
    "how long an idle connection stays open for its next request; above the load balancer's keep-alive",
  ),
  SHUTDOWN_DRAIN_DELAY_MS: Type.Integer({
    minimum: 0,
    default: 2000,
    description: 'a whole number of milliseconds: how long readiness answers 503 before the listener closes',
  }),
  SHUTDOWN_TIMEOUT_MS: ms(15000, 'the longest a graceful shutdown may take'),
  // Metrics, the dashboard and the API reference are for operators: in production they listen apart from
  // the API, on loopback by default (see managementAddress and docs/operations.md).
  MANAGEMENT_HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  MANAGEMENT_PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      description:
        'a port from 0 to 65535: where /metrics, /dashboard and /docs listen (0 picks a free one; PORT itself serves them with the API)',
    }),
  ),
  // The balancer's agent check reads the instance's admission limit here, on MANAGEMENT_HOST.
  ADMISSION_AGENT_PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      description:
        "a port from 0 to 65535: where HAProxy's agent-check reads the admission limit of a service that has one (the checkout) as its maxconn (0 picks a free one; unset, no agent)",
    }),
  ),
};

/** 1 to 65535, without leading zeros: a port a client can connect to. */
const PORT_1_TO_65535 =
  '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';

export const logSettings = {
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  LOG_FILE: Type.Optional(Type.String({ minLength: 1, description: 'a file path' })),
  LOG_FILE_MAX_SIZE: Type.String({
    pattern: '^[0-9]+[kmg]?$',
    default: '10m',
    description: 'a size such as 500k or 10m',
  }),
  LOG_FILE_RETENTION: Type.Integer({ minimum: 1, default: 5 }),
  // Lines that live only on the instance's disk die with it (the seed article's mistake 5): shipped to a
  // collector, the last lines before a crash are kept off the machine.
  LOG_SYSLOG_URL: Type.Optional(
    Type.String({
      // A host name, an IPv4 or a bracketed IPv6 address, and a port from 1 to 65535.
      pattern: `^tcp://([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\]):${PORT_1_TO_65535}$`,
      description: 'a syslog collector as tcp://host:port (a port from 1 to 65535)',
    }),
  ),
  LOG_SYSLOG_NAME: Type.Optional(
    Type.String({
      pattern: '^[!-~]{1,48}$',
      description: 'up to 48 printable characters without spaces: the app name the collector files lines by',
    }),
  ),
  LOG_SYSLOG_BUFFER_BYTES: Type.Integer({
    minimum: 65536,
    maximum: 2 ** 30,
    default: 16 * 2 ** 20,
    description:
      'a whole number of bytes from 65536 to 1073741824: lines held while the collector cannot take them',
  }),
};

export const databaseSettings = {
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://', description: 'a postgres:// URL' }),
  DB_POOL_MAX: Type.Integer({ minimum: 1, default: 10 }),
  DB_POOL_QUEUE_MAX: Type.Integer({
    minimum: 0,
    default: 50,
    description: 'a whole number: requests that may wait for a connection before the rest get a fast 503',
  }),
  DB_CONNECT_TIMEOUT_MS: ms(3000, 'the longest wait to connect, or for a free pool connection'),
  DB_STATEMENT_TIMEOUT_MS: ms(5000, 'the longest a statement may run'),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: ms(10000, 'the longest a transaction may sit idle'),
};

export const healthSettings = {
  HEALTH_CHECK_TIMEOUT_MS: ms(400, 'the time box of each health check; the answer comes within it'),
  // A flood of /health must not become a flood of database round trips: readiness runs its database
  // check at most once per interval and answers from the last result in between. At a second, an outage
  // fails readiness within 1.4 s (an interval and the time box): the next HAProxy check after it.
  HEALTH_CHECK_INTERVAL_MS: ms(
    1000,
    'how often readiness checks the database at most; answers in between reuse the last result',
  ),
  HEALTH_MEMORY_MAX_PCT: Type.Integer({ minimum: 1, maximum: 100, default: 90 }),
  HEALTH_BREAKER_STUCK_MS: ms(300000, 'how long a breaker may stay open before readiness fails'),
};

export const loadSheddingSettings = {
  MAX_CONCURRENT_REQUESTS: Type.Integer({ minimum: 1, default: 256 }),
  SHED_EVENT_LOOP_DELAY_MS: Type.Integer({
    minimum: 0,
    default: 200,
    description:
      'a whole number of milliseconds: mean event-loop delay past which requests are shed (0: off)',
  }),
  // Off by default: a busy loop is not a sick one, and a sample over the mark sheds every request until
  // the next sample, which under a steady load throws capacity away. The delay above is the backstop.
  SHED_EVENT_LOOP_UTILIZATION: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 0,
    description: 'a fraction: event-loop utilisation past which requests are shed (0: off)',
  }),
  SHED_HEAP_USED_PCT: Type.Integer({
    minimum: 0,
    maximum: 100,
    default: 90,
    description: "a percentage of V8's heap limit past which requests are shed (0: off)",
  }),
  SHED_SAMPLE_INTERVAL_MS: ms(500, "how often the process's health is sampled for shedding"),
};

export const metricsSettings = {
  // Logs that fill a disk make every write fail, the logging of the failure included (the seed article's
  // mistake 5, docs/architecture.md section 1).
  METRICS_DISK_PATHS: Type.String({
    default: 'data=.',
    minLength: 1,
    description:
      'comma-separated name=path entries whose filesystems `disk_free_bytes{path="<name>"}` reports (LOG_FILE\'s directory is added as `logs`)',
  }),
  METRICS_ENABLED: Type.Boolean({
    default: true,
    description: 'true or false: false leaves out request and call metrics (the bench prices them this way)',
  }),
};

const otlpEndpoint = (description: string) =>
  Type.Optional(
    Type.String({
      pattern: '^https?://[^/?#@\\s]+',
      description: `an http(s) URL with a host: ${description}`,
    }),
  );

/** What OTEL_TRACES_SAMPLER may name (the OpenTelemetry specification's built-in samplers). */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** The OTLP protocols this build exports over: both of HTTP's (gRPC is not among them). */
const otlpProtocol = () =>
  Type.Optional(
    Type.Union([Type.Literal('http/protobuf'), Type.Literal('http/json')], {
      description: "http/protobuf (the specification's default) or http/json",
    }),
  );

/**
 * The OpenTelemetry SDK's own variables, read as its specification says (names, defaults, meaning), so
 * that an operator's usual settings work unchanged. Spans are exported only when an OTLP endpoint is
 * set; without one, traces are only propagated. The exporter also reads OTEL_EXPORTER_OTLP_HEADERS,
 * _TIMEOUT and _COMPRESSION (and their _TRACES_ forms) itself: headers may hold a vendor's key, so they
 * are no setting here, never hashed into configHash nor logged.
 */
export const tracingSettings = {
  OTEL_SDK_DISABLED: Type.Boolean({
    default: false,
    description: 'true or false: true exports no spans, whatever else is set (traces are still propagated)',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint('the OTLP/HTTP collector, /v1/traces appended'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpEndpoint('the OTLP/HTTP traces endpoint, used as it is'),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol(),
  OTEL_TRACES_EXPORTER: Type.Union([Type.Literal('otlp'), Type.Literal('none')], { default: 'otlp' }),
  OTEL_SERVICE_NAME: Type.Optional(Type.String({ minLength: 1, description: 'a service name' })),
  OTEL_TRACES_SAMPLER: Type.Union(
    TRACE_SAMPLERS.map((name) => Type.Literal(name)),
    { default: 'parentbased_always_on' },
  ),
  OTEL_TRACES_SAMPLER_ARG: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'a fraction from 0 to 1: the ratio of traces sampled',
    }),
  ),
  OTEL_BSP_SCHEDULE_DELAY: ms(5000, 'the longest a finished span waits to be exported'),
  OTEL_BSP_EXPORT_TIMEOUT: ms(30000, 'the longest one export may take'),
  OTEL_BSP_MAX_QUEUE_SIZE: Type.Integer({ minimum: 1, default: 2048 }),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: Type.Integer({ minimum: 1, default: 512 }),
};
