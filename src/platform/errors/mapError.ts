import { AppError } from './AppError.ts';
import { PlatformErrors } from './codes.ts';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  /** Set by http-errors (the static file server's errors) on a 4xx meant for the client. */
  expose?: boolean;
  validation?: { keyword: string; instancePath: string; params: Record<string, unknown>; message?: string }[];
  validationContext?: string;
}

const BODY_PARSE_CODES: Record<string, AppError['definition']> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: PlatformErrors.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_BODY_TOO_LARGE: PlatformErrors.PAYLOAD_TOO_LARGE,
  FST_ERR_CTP_INVALID_JSON_BODY: PlatformErrors.INVALID_JSON,
  FST_ERR_CTP_EMPTY_JSON_BODY: PlatformErrors.INVALID_JSON,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: PlatformErrors.INVALID_JSON,
};

/**
 * The one place where anything thrown becomes a typed error with a stable code. Whatever is not
 * recognised is a bug: 500 INTERNAL_SERVER_ERROR, its details kept for the log only.
 */
export function mapError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) return fromValidation(e.validation, e.validationContext);
  const bodyParseError = e.code ? BODY_PARSE_CODES[e.code] : undefined;
  if (bodyParseError) return new AppError(bodyParseError, { cause: error });
  // JSON.parse failures inside Fastify's body parser carry a 400 and no code of their own.
  if (error instanceof SyntaxError && e.statusCode === 400) {
    return new AppError(PlatformErrors.INVALID_JSON, { cause: error });
  }
  const refusal = clientRefusal(e);
  if (refusal) return new AppError(refusal, { cause: error });
  return new AppError(PlatformErrors.INTERNAL_SERVER_ERROR, { cause: error });
}

/** The codes a 4xx of the framework or the static file server is answered with, by its status. */
const REFUSAL_BY_STATUS: Record<number, AppError['definition']> = {
  403: PlatformErrors.ROUTE_NOT_FOUND,
  404: PlatformErrors.ROUTE_NOT_FOUND,
  405: PlatformErrors.ROUTE_NOT_FOUND,
  408: PlatformErrors.REQUEST_TIMEOUT,
  413: PlatformErrors.PAYLOAD_TOO_LARGE,
  414: PlatformErrors.URL_TOO_LONG,
  415: PlatformErrors.UNSUPPORTED_MEDIA_TYPE,
  431: PlatformErrors.HEADERS_TOO_LARGE,
};

/**
 * A request the framework (an `FST_` code) or the static file server (an http-errors 4xx) refused: the
 * client's doing, answered in the contract by its status (any other 4xx as a malformed request), never a
 * 500. Other errors that carry a status (an HTTP client's, say, with the status a dependency answered)
 * are bugs here like anything else.
 */
function clientRefusal(e: FastifyLikeError): AppError['definition'] | undefined {
  const status = e.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (!(e.code?.startsWith('FST_') || e.expose === true)) return undefined;
  return REFUSAL_BY_STATUS[status] ?? PlatformErrors.MALFORMED_REQUEST;
}

function fromValidation(
  issues: NonNullable<FastifyLikeError['validation']>,
  context: string | undefined,
): AppError {
  const where = context ?? 'body';
  const missing = issues
    .filter((issue) => issue.keyword === 'required')
    .map((issue) => joinPath(issue.instancePath, String(issue.params.missingProperty ?? '')));
  if (missing.length > 0) {
    return new AppError(PlatformErrors.MISSING_REQUIRED_FIELDS, {
      message: `Missing required ${where} field${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}.`,
      extensions: { fields: missing },
    });
  }
  const invalid = issues.map((issue) => ({
    field: joinPath(issue.instancePath, '') || where,
    problem: issue.message ?? issue.keyword,
  }));
  return new AppError(PlatformErrors.VALIDATION_FAILED, {
    message: `Invalid ${where}: ${invalid.map((i) => `${i.field} ${i.problem}`).join('; ')}.`,
    extensions: { fields: invalid },
  });
}

function joinPath(instancePath: string, leaf: string): string {
  return [...instancePath.split('/').filter(Boolean), leaf].filter(Boolean).join('.');
}
