import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { TRACE_SAMPLERS } from '../config/settings.ts';
import type { Logger } from '../logging/createLogger.ts';
import { ReportedExporter } from './ReportedExporter.ts';
import { enablePropagation, recordSpansWith } from './traceContext.ts';

/** The OTEL_* settings (settings.ts, `tracingSettings`) as a service's configuration holds them. */
export interface TracingSettings {
  OTEL_SDK_DISABLED: boolean;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_PROTOCOL?: OtlpProtocol | undefined;
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: OtlpProtocol | undefined;
  OTEL_TRACES_EXPORTER: 'otlp' | 'none';
  OTEL_SERVICE_NAME?: string | undefined;
  OTEL_TRACES_SAMPLER: (typeof TRACE_SAMPLERS)[number];
  OTEL_TRACES_SAMPLER_ARG?: number | undefined;
  OTEL_BSP_SCHEDULE_DELAY: number;
  OTEL_BSP_EXPORT_TIMEOUT: number;
  OTEL_BSP_MAX_QUEUE_SIZE: number;
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: number;
}

export interface Tracing {
  /** True when spans are recorded and exported over OTLP/HTTP. */
  exporting: boolean;
  /** Exports the spans still queued, then stops (at shutdown, after the listener closed). */
  shutdown: () => Promise<void>;
}

/** Whether these settings export spans: an endpoint set, the SDK and its exporter not turned off. */
export function exportsSpans(settings: TracingSettings): boolean {
  return (
    tracesUrl(settings) !== undefined &&
    !settings.OTEL_SDK_DISABLED &&
    settings.OTEL_TRACES_EXPORTER !== 'none'
  );
}

/**
 * Where spans are sent: the traces endpoint as it is, or the base endpoint with the signal's path
 * appended, as the OTLP exporter specification says.
 */
export function tracesUrl(settings: TracingSettings): string | undefined {
  if (settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = settings.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Tracing for one service process. Without an endpoint, only propagation: the W3C context is read
 * from requests, written on calls and named on log lines, and no span is recorded (no SDK, no
 * instrumentation). With one: the SDK records spans and exports them in batches over OTLP/HTTP (JSON),
 * undici's calls and pg's statements among them.
 */
export function startTracing(
  service: { name: string; version: string; logger: Logger },
  settings: TracingSettings,
): Tracing {
  enablePropagation();
  if (!exportsSpans(settings)) return { exporting: false, shutdown: async () => {} };
  const provider = new TracerProvider({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the environment's detector) win over the default name.
    resource: resourceFromAttributes({
      'service.name': service.name,
      'service.version': service.version,
      // Instances of one service (the checkout's, behind a balancer) told apart.
      'service.instance.id': randomUUID(),
    }).merge(detectResources({ detectors: [envDetector] })),
    sampler: samplerOf(settings),
    spanProcessors: [
      new BatchSpanProcessor({
        // The URL as validated here; headers, timeout and compression the exporter reads from the environment.
        exporter: new ReportedExporter(exporterOf(settings), service.logger),
        scheduledDelayMillis: settings.OTEL_BSP_SCHEDULE_DELAY,
        exportTimeoutMillis: settings.OTEL_BSP_EXPORT_TIMEOUT,
        maxQueueSize: settings.OTEL_BSP_MAX_QUEUE_SIZE,
        maxExportBatchSize: Math.min(
          settings.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
          settings.OTEL_BSP_MAX_QUEUE_SIZE,
        ),
      }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  // Spans of calls and statements made for a unit of work only: a pool's background connects and a
  // sweeper's statements would each be a trace of one span.
  const instrumentations = [
    new UndiciInstrumentation({ requireParentforSpans: true }),
    new PgInstrumentation({ requireParentSpan: true }),
  ];
  for (const instrumentation of instrumentations) {
    instrumentation.setTracerProvider(provider);
    instrumentation.enable();
  }
  patchLoadedPg();
  recordSpansWith(provider.getTracer('steadfast'), { clientsInstrumented: true });
  return {
    exporting: true,
    // The last spans' export failing (the collector down) is said by the exporter's line; it must not
    // turn a clean stop into exit 1 without its shutdown_complete, nor hold the stop up.
    shutdown: async () => {
      for (const instrumentation of instrumentations) instrumentation.disable();
      await Promise.race([
        provider.shutdown().catch(() => {}),
        sleep(FINAL_EXPORT_MS, undefined, { ref: false }),
      ]);
    },
  };
}

/**
 * The pg instrumentation patches `pg` as it is required; a service's modules imported it before its
 * settings were read. Required again now, through the hook the instrumentation just installed, the
 * loaded module (the one every import shares) is patched in place: its Client's query and its pool's
 * connect.
 */
function patchLoadedPg(): void {
  const require = createRequire(import.meta.url);
  require('pg');
  // pg's own pool, found from pg as pg finds it (it need not sit at the top of node_modules).
  createRequire(require.resolve('pg'))('pg-pool');
}

type OtlpProtocol = 'http/protobuf' | 'http/json';

/** The longest a stop waits for its last spans to be exported. */
const FINAL_EXPORT_MS = 3000;

/** The exporter of the protocol asked for, the traces' own setting first; http/protobuf when unset, as the specification says. */
function exporterOf(settings: TracingSettings): JsonTraceExporter | ProtobufTraceExporter {
  const url = tracesUrl(settings);
  const protocol = settings.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? settings.OTEL_EXPORTER_OTLP_PROTOCOL;
  return protocol === 'http/json' ? new JsonTraceExporter({ url }) : new ProtobufTraceExporter({ url });
}

function samplerOf(settings: TracingSettings): Sampler {
  const ratio = settings.OTEL_TRACES_SAMPLER_ARG ?? 1;
  switch (settings.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
