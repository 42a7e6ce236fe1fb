import { AppError } from './AppError.ts';
import { PlatformErrors } from './codes.ts';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
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
  return new AppError(PlatformErrors.INTERNAL_SERVER_ERROR, { cause: error });
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
