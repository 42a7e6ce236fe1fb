import {
  type Attributes,
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { RandomIdGenerator } from '@opentelemetry/sdk-trace';

/** A unit of work's place in its trace (W3C Trace Context): its span, and the context that carries it. */
export interface Trace {
  span: Span;
  context: Context;
}

/** The names the OpenTelemetry log data model gives a line's trace fields. */
export interface TraceFields {
  trace_id: string;
  span_id: string;
}

const w3c = new W3CTraceContextPropagator();
const ids = new RandomIdGenerator();

/** Set by startTracing when spans are exported; undefined: traces are only propagated. */
let recordingTracer: Tracer | undefined;
/** True when undici's instrumentation puts `traceparent` on outgoing calls itself, from its own span. */
let clientsInstrumented = false;
let propagating = false;

/**
 * The context manager and the propagator every service uses, spans exported or not: a request's
 * `traceparent` is continued in its log lines and on the calls it makes. Idempotent.
 */
export function enablePropagation(): void {
  if (propagating) return;
  propagating = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(w3c);
}

/** Spans are recorded with `tracer` from now on (startTracing, when exporting). */
export function recordSpansWith(tracer: Tracer, options: { clientsInstrumented: boolean }): void {
  enablePropagation();
  recordingTracer = tracer;
  clientsInstrumented = options.clientsInstrumented;
}

/** The tracer that records spans, or undefined when nothing is exported. */
export function recordingSpans(): Tracer | undefined {
  return recordingTracer;
}

/**
 * Starts the trace of a unit of work: a request (`carrier` its headers, whose `traceparent` it
 * continues), or work of the service's own (no carrier: a new trace). Exported or not, the work gets a
 * span id of its own, so that its log lines and the calls it makes name it; unexported, the span is no
 * more than those ids. `attributes` is asked for only when the span is recorded. `record: false` keeps
 * the work out of the exported traces (a probe's), its calls and statements too (they are unsampled).
 */
export function startTrace(
  name: string,
  options: {
    kind?: SpanKind;
    attributes?: () => Attributes;
    carrier?: Record<string, unknown>;
    record?: boolean;
  } = {},
): Trace {
  enablePropagation();
  const parent = options.carrier
    ? w3c.extract(ROOT_CONTEXT, options.carrier, defaultTextMapGetter)
    : ROOT_CONTEXT;
  if (options.record === false) {
    const span = unrecordedSpan(trace.getSpanContext(parent), TraceFlags.NONE);
    return { span, context: trace.setSpan(parent, span) };
  }
  const span = recordingTracer
    ? recordingTracer.startSpan(
        name,
        {
          kind: options.kind ?? SpanKind.INTERNAL,
          ...(options.attributes ? { attributes: options.attributes() } : {}),
        },
        parent,
      )
    : unrecordedSpan(trace.getSpanContext(parent));
  return { span, context: trace.setSpan(parent, span) };
}

/**
 * A span that is only ids: the caller's trace (a new one without a caller), a span id of its own, the
 * caller's flags unless `flags` says otherwise.
 */
function unrecordedSpan(parent: SpanContext | undefined, flags?: TraceFlags): Span {
  const continued = parent !== undefined && trace.isSpanContextValid(parent);
  return trace.wrapSpanContext({
    traceId: continued ? parent.traceId : ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    // An unsampled caller stays unsampled downstream; a sampled one is still sampled there.
    traceFlags: flags ?? (continued ? parent.traceFlags : TraceFlags.NONE),
    // The caller's vendors' state goes on with its trace, as a recorded span's does.
    ...(continued && parent.traceState ? { traceState: parent.traceState } : {}),
  });
}

/** Runs `work` inside `trace`: the spans it starts are its children, the calls it makes carry it. */
export function runInTrace<T>(inTrace: Trace, work: () => T): T {
  return context.with(inTrace.context, work);
}

/** The trace fields of a log line about `span`. */
export function traceFields(span: Span): TraceFields {
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The trace fields of the span current where this is called, or undefined outside any trace. */
export function activeTraceFields(): TraceFields | undefined {
  const span = trace.getActiveSpan();
  return span ? traceFields(span) : undefined;
}

/**
 * The `traceparent` header of an outgoing call made in the current trace: none outside one, and none
 * when undici's instrumentation adds it itself (from the call's own span).
 */
export function outgoingTraceHeaders(): Record<string, string> {
  if (clientsInstrumented) return {};
  const headers: Record<string, string> = {};
  w3c.inject(context.active(), headers, defaultTextMapSetter);
  return headers;
}
