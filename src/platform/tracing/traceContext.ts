import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';

/** A W3C trace context: the trace a unit of work belongs to, and its own span in it. */
export interface TraceContext {
  traceId: string;
  spanId: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ALL_ZEROS = /^0+$/;
const storage = new AsyncLocalStorage<TraceContext>();

// Random bytes are drawn a batch at a time, as crypto.randomUUID does: one call into the CSPRNG for
// some 170 requests' ids instead of two calls for each.
const entropy = Buffer.alloc(4096);
let drawn = entropy.length;
function hex(bytes: number): string {
  if (drawn + bytes > entropy.length) {
    randomFillSync(entropy);
    drawn = 0;
  }
  drawn += bytes;
  return entropy.toString('hex', drawn - bytes, drawn);
}

/**
 * The context of work that a `traceparent` header (W3C Trace Context) says it continues, or of a new
 * trace when the header is absent or malformed: one checkout can be followed across every service's log.
 */
export function traceFrom(traceparent: string | string[] | undefined): TraceContext {
  const match = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
  const traceId = match?.[1] && !ALL_ZEROS.test(match[1]) ? match[1] : hex(16);
  return { traceId, spanId: hex(8) };
}

/** Runs `work` inside `context`: calls it makes to other services carry the trace. */
export function runInTrace<T>(context: TraceContext, work: () => T): T {
  return storage.run(context, work);
}

/** The `traceparent` header for an outgoing call of the current trace, or undefined outside one. */
export function outgoingTraceparent(): string | undefined {
  const context = storage.getStore();
  return context ? `00-${context.traceId}-${context.spanId}-01` : undefined;
}
