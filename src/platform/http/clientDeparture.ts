import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/AppError.ts';
import { PlatformErrors } from '../errors/codes.ts';

/**
 * Errors the request stream raises when its connection goes before the body is whole: Node's `aborted`
 * (code ECONNRESET) whether the client closed, reset or was cut off by the request timeout, and the
 * premature close of a stream a parser may pipe the body through.
 */
const BODY_CUT_SHORT_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP_REQUEST_TIMEOUT',
]);

/**
 * True when `error` only says that the request's body stopped arriving because its connection is gone:
 * nothing failed on this side, so it is no server error (no stack, no errorId, no 5xx). The request
 * stream itself must be destroyed, so that an ECONNRESET of some other socket (a dependency's, say)
 * is still a failure.
 */
export function isBodyCutShort(error: unknown, request: FastifyRequest): boolean {
  if (!request.raw.destroyed) return false;
  if (error === request.raw.errored) return true;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && BODY_CUT_SHORT_CODES.has(code);
}

/**
 * True when the response's connection closed before its answer was written: the client left (or its
 * body timed out). A reply a route hijacked (it owns the socket) does not count.
 */
export function leftBeforeAnswer(reply: FastifyReply): boolean {
  const hijacked = reply.sent && !reply.raw.writableEnded;
  return !reply.raw.writableFinished && !hijacked;
}

/** What the server answered on connections it refused mid-request (a timed-out or malformed body). */
const refusals = new WeakMap<object, AppError>();

/** Notes the refusal the server wrote on `socket`: the request line then records it, not a departure. */
export function noteRefusal(socket: object, refusal: AppError): void {
  refusals.set(socket, refusal);
}

/**
 * What the request line records for a client that left, or that the server refused mid-request (what
 * `noteRefusal` noted: a 400 for a body it could not read, say): 408 REQUEST_TIMEOUT when its body was cut off
 * by the request timeout (that 408 was written before the socket closed), otherwise 499
 * CLIENT_CLOSED_REQUEST (it closed or reset the connection mid-body, or while the request ran).
 */
export function departureOf(request: FastifyRequest): AppError {
  const refusal = request.raw.socket ? refusals.get(request.raw.socket) : undefined;
  if (refusal) return refusal;
  const socketError = request.raw.socket?.errored as NodeJS.ErrnoException | null | undefined;
  return socketError?.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? new AppError(PlatformErrors.REQUEST_TIMEOUT)
    : new AppError(PlatformErrors.CLIENT_CLOSED_REQUEST);
}
