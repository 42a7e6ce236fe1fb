import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { recordingSpans } from './traceContext.ts';

/** What `work` is handed when nothing is recorded: attributes set on it go nowhere. */
const UNRECORDED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Runs one step of a unit of work (a checkout's reserve, its charge) as a child span of the current
 * one, ended when the step ends, with the error's code when it throws. When nothing is exported the step
 * just runs: no span, no context switch.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const tracer = recordingSpans();
  if (!tracer) return work(UNRECORDED);
  const span = tracer.startSpan(name, { attributes });
  try {
    return await context.with(trace.setSpan(context.active(), span), () => work(span));
  } catch (error) {
    const type = (error as { code?: unknown }).code ?? (error as Error).name;
    span.setStatus({ code: SpanStatusCode.ERROR }).setAttribute('error.type', String(type));
    throw error;
  } finally {
    span.end();
  }
}
