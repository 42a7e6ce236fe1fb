import Type from 'typebox';
import type { AppError } from './AppError.ts';

/** RFC 9457 problem details, with the seed article's `error` / `message` members beside them. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    error: Type.String({ description: 'Stable error code' }),
    message: Type.String(),
    errorId: Type.Optional(Type.String({ pattern: '^ERR-[0-9]{13}-[0-9A-Z]{6}$' })),
    retryAfterSeconds: Type.Optional(Type.Integer()),
  },
  { additionalProperties: true },
);

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function toProblem(error: AppError, errorId: string | undefined): Record<string, unknown> {
  const { definition } = error;
  return {
    type: `urn:steadfast:problem:${definition.code.toLowerCase().replaceAll('_', '-')}`,
    title: definition.title,
    status: definition.status,
    detail: error.detail ?? error.message,
    error: definition.code,
    message: error.message,
    ...error.extensions,
    ...(errorId ? { errorId } : {}),
    ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
  };
}
