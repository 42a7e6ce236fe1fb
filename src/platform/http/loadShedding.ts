import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/AppError.ts';
import { PlatformErrors } from '../errors/codes.ts';
import { type HttpServer, isOperationalRoute } from './createHttpServer.ts';

/**
 * An onRequest hook that lets at most `maxConcurrent` requests in at once. Past that a request gets a
 * fast 503 SERVER_OVERLOADED with Retry-After, before its body is read or any work is done, instead of
 * joining a queue that only makes every answer late, or being let in and refused half-way.
 */
export function admissionLimit(maxConcurrent: number) {
  let inFlight = 0;
  return async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (inFlight >= maxConcurrent) {
      throw new AppError(PlatformErrors.SERVER_OVERLOADED, { retryAfterSeconds: 1 });
    }
    inFlight++;
    // 'close' fires once the response is sent or the client went away, whichever comes first.
    reply.raw.once('close', () => {
      inFlight--;
    });
  };
}

/**
 * Caps the requests one instance works on at once. Health checks and metrics are never shed: the load
 * balancer and the monitoring must keep hearing from an instance under load.
 */
export function registerLoadShedding(app: HttpServer, maxConcurrent: number): void {
  const admit = admissionLimit(maxConcurrent);
  app.addHook('onRequest', async (request, reply) => {
    if (!isOperationalRoute(request.url)) await admit(request, reply);
  });
}
