import { AppError } from '../errors/AppError.ts';
import { PlatformErrors } from '../errors/codes.ts';
import { type HttpServer, isOperationalRoute } from './createHttpServer.ts';

/**
 * Caps the requests one instance works on at once. Past the cap a request gets a fast 503
 * SERVER_OVERLOADED with Retry-After instead of joining a queue that only makes every answer late.
 * Health checks and metrics are never shed: the load balancer and the monitoring must keep hearing
 * from an instance under load.
 */
export function registerLoadShedding(app: HttpServer, maxConcurrent: number): void {
  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    if (isOperationalRoute(request.url)) return;
    if (inFlight >= maxConcurrent) {
      throw new AppError(PlatformErrors.SERVER_OVERLOADED, { retryAfterSeconds: 1 });
    }
    inFlight++;
    // 'close' fires once the response is sent or the client went away, whichever comes first.
    reply.raw.once('close', () => {
      inFlight--;
    });
  });
}
