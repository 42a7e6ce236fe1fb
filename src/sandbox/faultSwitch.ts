import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import { logEvent } from '../contract/logEvents.ts';
import { type HttpServer, isOperationalRoute } from '../platform/http/createHttpServer.ts';

export const FaultSchema = Type.Object(
  {
    mode: Type.Union([
      Type.Literal('none'),
      Type.Literal('latency'),
      Type.Literal('error'),
      Type.Literal('hang'),
      Type.Literal('reset'),
      Type.Literal('charge-then-hang'),
    ]),
    latencyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600000 })),
    /** The status of mode `error`: a 5xx (the default, 500), or 429 as a rate limit answers. */
    status: Type.Optional(
      Type.Union([Type.Literal(429), Type.Literal(500), Type.Literal(502), Type.Literal(503)]),
    ),
    rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /**
     * The payment sandbox's webhooks: sent (at start), or held back. Kept until given again: a fault set
     * without it leaves the webhooks as they were.
     */
    webhooks: Type.Optional(Type.Union([Type.Literal('deliver'), Type.Literal('hold')])),
  },
  { additionalProperties: false },
);
export type Fault = Static<typeof FaultSchema>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the fault switch: serve this request this much later. */
    faultDelayMs?: number;
  }
}

/**
 * The sandbox fault switch (`PUT /__sandbox/fault`): makes a share of requests slow, fail, hang or
 * drop their connection, so tests and demos can break a dependency for real. Refused in production.
 */
export class FaultSwitch {
  #fault: Required<Fault> = { mode: 'none', latencyMs: 0, status: 500, rate: 1, webhooks: 'deliver' };
  /** Requests that reached the service's API (not the switch, not health): proof a breaker kept calls away. */
  #requestsSeen = 0;
  readonly #held = new Set<Socket>();

  get current(): Required<Fault> & { requestsSeen: number } {
    return { ...this.#fault, requestsSeen: this.#requestsSeen };
  }

  /** True when this request was picked to have its answer swallowed after its work is done. */
  hangsAfterWork(): boolean {
    return this.#fault.mode === 'charge-then-hang' && Math.random() < this.#fault.rate;
  }

  /** True while the payment sandbox's webhooks are held back. */
  holdsWebhooks(): boolean {
    return this.#fault.webhooks === 'hold';
  }

  /** Keeps the connection open and never answers. */
  hold(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const socket = request.raw.socket;
    this.#held.add(socket);
    socket.once('close', () => this.#held.delete(socket));
  }

  /**
   * `errorBody`: what mode `error` answers, in the service's own error shape (the payment sandbox's is
   * Stripe's); a body of the switch's own when unset.
   */
  register(
    app: HttpServer,
    options: { production: boolean; errorBody?: (status: number) => Record<string, unknown> },
  ): void {
    app.get('/__sandbox/fault', { schema: { hide: true } }, async () => this.current);
    app.put('/__sandbox/fault', { schema: { hide: true, body: FaultSchema } }, async (request, reply) => {
      if (options.production) {
        return reply
          .code(403)
          .send({ error: 'FAULTS_DISABLED', message: 'The fault switch is off in production.' });
      }
      this.#fault = { latencyMs: 0, status: 500, rate: 1, webhooks: this.#fault.webhooks, ...request.body };
      logEvent(request.log, 'warn', 'fault_switched', { fault: this.#fault });
      return this.current;
    });

    app.addHook('onRequest', async (request, reply) => {
      // The switch fails the API, never the routes that operate the sandbox: a scrape or a health check
      // that hangs would fault the monitoring, not the gateway it watches.
      if (request.url.startsWith('/__sandbox') || isOperationalRoute(request.url)) return;
      this.#requestsSeen++;
      const { mode, latencyMs, status, rate } = this.#fault;
      if (mode === 'none' || mode === 'charge-then-hang') return;
      if (Math.random() >= rate) return;
      if (mode === 'latency') {
        // Slow, not lost: the request is read first and then served late, even if its caller gave up
        // waiting (as a gateway that queues work does). That is how a charge lands after a timeout.
        request.faultDelayMs = latencyMs;
      } else if (mode === 'error') {
        const body = options.errorBody?.(status) ?? {
          error: 'INJECTED_FAULT',
          message: `The fault switch answered ${status}.`,
        };
        return reply.code(status).send(body);
      } else if (mode === 'hang') {
        this.hold(request, reply);
      } else if (mode === 'reset') {
        reply.hijack();
        request.raw.socket.destroy();
      }
    });

    app.addHook('preHandler', async (request) => {
      if (request.faultDelayMs) await sleep(request.faultDelayMs);
    });

    // Held connections would keep close() waiting forever.
    app.addHook('preClose', async () => {
      for (const socket of this.#held) socket.destroy();
    });
  }
}
