import underPressure from '@fastify/under-pressure';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/AppError.ts';
import { PlatformErrors } from '../errors/codes.ts';
import { type HttpServer, isOperationalRoute } from './createHttpServer.ts';

/** Why a request was turned away: the label of `http_requests_shed_total`. */
export const SHED_REASONS = ['in_flight', 'event_loop_delay', 'event_loop_utilization', 'heap_used'] as const;
export type ShedReason = (typeof SHED_REASONS)[number];

export type ShedRecorder = (reason: ShedReason) => void;

const PRESSURE_REASONS: Record<string, ShedReason> = {
  [underPressure.TYPE_EVENT_LOOP_DELAY]: 'event_loop_delay',
  [underPressure.TYPE_EVENT_LOOP_UTILIZATION]: 'event_loop_utilization',
  [underPressure.TYPE_HEAP_USED_BYTES]: 'heap_used',
};

const overloaded = () => new AppError(PlatformErrors.SERVER_OVERLOADED, { retryAfterSeconds: 1 });

/** How many requests may be in at once; told how long each one answered took, if it adapts. */
export interface ConcurrencyLimit {
  readonly limit: number;
  onSample?(latencyMs: number, inFlight: number): void;
}

/**
 * An onRequest hook that lets at most `limit` requests in at once. Past that a request gets a fast 503
 * SERVER_OVERLOADED with Retry-After, before its body is read or any work is done, instead of joining a
 * queue that only makes every answer late, or being let in and refused half-way. An adaptive limit hears
 * the latency of each answer sent that `sampled` accepts: by default any but a 5xx (a fault's answer
 * times the fault, not the load). A route whose cheap answers a client can ask for at will (a replay, a
 * refusal) keeps them out: they would teach the limit a latency the real work never has, and one
 * client's requests would shrink what every other client is let in.
 */
export function admissionLimit(
  limit: number | ConcurrencyLimit,
  onShed: ShedRecorder = () => {},
  sampled: (reply: FastifyReply) => boolean = (reply) => reply.statusCode < 500,
) {
  const cap: ConcurrencyLimit = typeof limit === 'number' ? { limit } : limit;
  const admission = {
    inFlight: 0,
    get limit() {
      return cap.limit;
    },
    hook: async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (admission.inFlight >= cap.limit) {
        onShed('in_flight');
        throw overloaded();
      }
      const inFlight = ++admission.inFlight;
      const admittedAt = performance.now();
      // 'close' fires once the response is sent or the client went away, whichever comes first.
      reply.raw.once('close', () => {
        admission.inFlight--;
        if (reply.raw.writableFinished && sampled(reply)) {
          cap.onSample?.(performance.now() - admittedAt, inFlight);
        }
      });
    },
  };
  return admission;
}

export type Admission = ReturnType<typeof admissionLimit>;

export interface LoadSheddingOptions {
  /** Requests one instance works on at once. */
  maxConcurrent: number;
  /** Mean event-loop delay (ms) over a sample past which new requests are shed; 0 turns the check off. */
  maxEventLoopDelayMs: number;
  /** Event-loop utilisation (0..1) over a sample past which new requests are shed; 0 turns it off. */
  maxEventLoopUtilization: number;
  /** V8 heap in use (bytes) past which new requests are shed; 0 turns it off. */
  maxHeapUsedBytes: number;
  /** How often the process's health is sampled (ms). */
  sampleIntervalMs: number;
  onShed?: ShedRecorder;
}

/**
 * Sheds load by in-flight work and by the process's own health (@fastify/under-pressure): a process
 * whose event loop lags or whose heap is near its limit answers every request late, so it refuses new
 * ones at once until the next sample finds it well. Health checks and metrics are never shed: the
 * load balancer and the monitoring must keep hearing from an instance under load.
 */
export async function registerLoadShedding(app: HttpServer, options: LoadSheddingOptions): Promise<void> {
  const onShed = options.onShed ?? (() => {});
  const admit = admissionLimit(options.maxConcurrent, onShed).hook;
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxEventLoopUtilization: options.maxEventLoopUtilization,
    // Utilisation over the last sample, not since the process started.
    eventLoopUtilizationMode: 'interval',
    maxHeapUsedBytes: options.maxHeapUsedBytes,
    sampleInterval: options.sampleIntervalMs,
    pressureHandler: async (request: FastifyRequest, _reply: FastifyReply, type: string) => {
      if (isOperationalRoute(request.url)) return;
      onShed(PRESSURE_REASONS[type] ?? 'event_loop_delay');
      throw overloaded();
    },
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!isOperationalRoute(request.url)) await admit(request, reply);
  });
}
