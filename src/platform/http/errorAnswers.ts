import { trace } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { logEvent, type RequestFailed } from '../../contract/logEvents.ts';
import type { ServerErrorNote } from '../dashboard/RecentErrors.ts';
import { AppError } from '../errors/AppError.ts';
import { PlatformErrors } from '../errors/codes.ts';
import { DependencyUnavailableError } from '../errors/DependencyUnavailableError.ts';
import { newErrorId } from '../errors/errorId.ts';
import { mapError } from '../errors/mapError.ts';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../errors/problem.ts';
import { isBodyCutShort } from './clientDeparture.ts';

// How every error becomes an answer and, when it is the server's, a log line with its stack: the one
// error handler of the platform's HTTP servers, and the raw answers for sockets no request exists for.

/** How a service writes an error body; the default is RFC 9457 problem+json. */
export type ErrorRenderer = (
  error: AppError,
  errorId: string | undefined,
) => { contentType: string; body: unknown };

export const renderProblem: ErrorRenderer = (error, errorId) => ({
  contentType: PROBLEM_CONTENT_TYPE,
  body: toProblem(error, errorId),
});

/** Load the instance chose to turn away: told by the request line and the metrics, with no stack logged. */
export const REFUSALS: ReadonlySet<string> = new Set([
  PlatformErrors.SERVER_OVERLOADED.code,
  PlatformErrors.SHUTTING_DOWN.code,
]);

/**
 * The error handler: maps what was thrown (mapError), gives a 5xx an errorId, logs it with its stack
 * (refusals of load excepted: the metrics count those), tells `onServerError`, and answers a sanitised body.
 */
export function errorHandler(
  render: ErrorRenderer,
  onServerError: ((note: ServerErrorNote) => void) | undefined,
) {
  return async (rawError: Error, request: FastifyRequest, reply: FastifyReply) => {
    // The body stopped because its client left: nobody to answer, nothing failed here. The response's
    // close (a hook of createHttpServer) writes the request line; returning nothing sends nothing.
    if (isBodyCutShort(rawError, request)) return;
    const error = mapError(rawError);
    const errorId = error.status >= 500 ? newErrorId() : undefined;
    request.logContext.error = error.code;
    if (errorId) {
      request.logContext.errorId = errorId;
      if (!REFUSALS.has(error.code)) logServerError(request, error, errorId);
      onServerError?.({
        time: new Date().toISOString(),
        errorId,
        statusCode: error.status,
        error: error.code,
        endpoint: endpointOf(request),
        // The request's own trace (its handler runs in it): the way from the dashboard to its spans.
        trace_id: trace.getActiveSpan()?.spanContext().traceId ?? '',
      });
    }
    // Returned: an async handler that only calls send() gets a second, empty send() from Fastify when an
    // async onSend hook is still running (a route's stored idempotent answer, say).
    return sendError(reply, error, errorId, render);
  };
}

export function sendError(
  reply: FastifyReply,
  error: AppError,
  errorId: string | undefined,
  render: ErrorRenderer,
): FastifyReply {
  const { contentType, body } = render(error, errorId);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  // Pre-serialised: an error body never goes through a route's success serializer.
  return reply.code(error.status).type(contentType).send(JSON.stringify(body));
}

/** What a request the server could not read gets: the HTTP parser's and the socket's errors, mapped. */
export function clientError(error: Error): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new AppError(PlatformErrors.REQUEST_TIMEOUT);
  if (code === 'HPE_HEADER_OVERFLOW') return new AppError(PlatformErrors.HEADERS_TOO_LARGE);
  return new AppError(PlatformErrors.MALFORMED_REQUEST);
}

/** A whole HTTP/1.1 response for a socket no request object exists for; the connection closes after it. */
export function rawProblem(error: AppError, render: ErrorRenderer): string {
  const { contentType, body } = render(error, undefined);
  const text = JSON.stringify(body);
  return (
    `HTTP/1.1 ${error.status} ${error.definition.title}\r\nContent-Type: ${contentType}\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`
  );
}

/**
 * The route pattern, never the raw URL: ids stay out of the endpoint so logs and metrics group by route,
 * and whatever a client put in a path no route matched (a token, say) never reaches a log line or the
 * dashboard.
 */
export function endpointOf(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? 'unmatched'}`;
}

function logServerError(request: FastifyRequest, error: AppError, errorId: string) {
  // The original failure is the cause for wrapped errors (a pg error behind a 503, a TypeError behind a 500).
  const origin = (error.cause ?? error) as Error;
  const fields: RequestFailed = {
    errorId,
    errorClass: origin?.constructor?.name ?? typeof origin,
    endpoint: endpointOf(request),
    statusCode: error.status,
    stack: origin?.stack ?? String(origin),
    ...(error instanceof DependencyUnavailableError
      ? { dependency: error.dependency, reason: error.reason }
      : {}),
    ...request.logContext,
  };
  const message = origin?.message || error.message;
  logEvent(request.log, error.status === 500 ? 'error' : 'warn', 'request_failed', fields, message);
}
