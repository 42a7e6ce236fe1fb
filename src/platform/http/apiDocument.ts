import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Type, { type TSchema } from 'typebox';
import { AppError, type ErrorDefinition } from '../errors/AppError.ts';
import { PlatformErrors } from '../errors/codes.ts';
import { PROBLEM_CONTENT_TYPE, ProblemSchema, toProblem } from '../errors/problem.ts';
import type { HttpServer } from './createHttpServer.ts';

/** A response header as the document declares it. */
interface HeaderDoc {
  description: string;
  type: 'string' | 'integer';
}

/** Headers a client reads or acts on. Every response carries X-Request-Id. */
export const Headers = {
  requestId: {
    'x-request-id': {
      type: 'string',
      description: 'The request id: the one sent, or one made up. Quote it (and any errorId) to support.',
    },
  },
  retryAfter: {
    'retry-after': { type: 'integer', description: 'Seconds to wait before trying again.' },
  },
  rateLimit: {
    'x-ratelimit-limit': { type: 'integer', description: 'Requests allowed in the window.' },
    'x-ratelimit-remaining': { type: 'integer', description: 'Requests left in the window.' },
    'x-ratelimit-reset': { type: 'integer', description: 'Seconds until the window starts again.' },
  },
} satisfies Record<string, Record<string, HeaderDoc>>;

/**
 * Errors any route of the platform may answer, whatever it does: a request or URL it cannot read, the instance
 * full or closing (503, with Retry-After), or a failure (500, with an errorId).
 */
export const ANY_ROUTE_ERRORS: readonly ErrorDefinition[] = [
  PlatformErrors.MALFORMED_REQUEST,
  PlatformErrors.REQUEST_TIMEOUT,
  PlatformErrors.HEADERS_TOO_LARGE,
  PlatformErrors.INVALID_URL,
  PlatformErrors.URL_TOO_LONG,
  PlatformErrors.SERVER_OVERLOADED,
  PlatformErrors.SHUTTING_DOWN,
  PlatformErrors.INTERNAL_SERVER_ERROR,
];

/** Errors of a request that may carry a body: the platform parses any body sent, schema or not. */
export const PARSE_ERRORS: readonly ErrorDefinition[] = [
  PlatformErrors.INVALID_JSON,
  PlatformErrors.PAYLOAD_TOO_LARGE,
  PlatformErrors.UNSUPPORTED_MEDIA_TYPE,
];

/** Errors of a request whose body is validated against its schema as well. */
export const BODY_ERRORS: readonly ErrorDefinition[] = [
  ...PARSE_ERRORS,
  PlatformErrors.MISSING_REQUIRED_FIELDS,
  PlatformErrors.VALIDATION_FAILED,
];

/** A success response: its body schema, one example, and the headers it carries. */
export function successResponse(
  schema: TSchema,
  doc: { description: string; example: unknown; headers?: Record<string, HeaderDoc> },
) {
  return {
    description: doc.description,
    headers: { ...Headers.requestId, ...doc.headers },
    content: { 'application/json': { schema, example: doc.example } },
  };
}

/**
 * The error responses of a route, from the one place codes are declared: per status, the `error`
 * codes it can carry (an enum), an example body of each, and its headers (Retry-After where one of
 * them is `retryable`). A route answering a code it does not list here fails the suites' response validation.
 */
export function errorResponses(
  errors: readonly ErrorDefinition[],
  headers: Record<string, HeaderDoc> = {},
): Record<number, unknown> {
  const byStatus = Map.groupBy(new Set(errors), (error) => error.status);
  return Object.fromEntries(
    [...byStatus].map(([status, definitions]) => [
      status,
      {
        description: definitions.map((d) => `\`${d.code}\`: ${d.title}`).join('; '),
        headers: {
          ...Headers.requestId,
          ...(definitions.some((d) => d.retryable) ? Headers.retryAfter : {}),
          ...headers,
        },
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: Type.Object(
              {
                ...ProblemSchema.properties,
                status: Type.Literal(status),
                error: Type.Enum(
                  definitions.map((d) => d.code),
                  { description: 'Stable error code' },
                ),
              },
              { additionalProperties: true },
            ),
            examples: Object.fromEntries(
              definitions.map((d) => [d.code, { summary: d.title, value: example(d) }]),
            ),
          },
        },
      },
    ]),
  );
}

function example(definition: ErrorDefinition): Record<string, unknown> {
  const error = new AppError(definition, definition.retryable ? { retryAfterSeconds: 1 } : {});
  return toProblem(error, definition.status >= 500 ? 'ERR-1764460800000-7K3QZP' : undefined);
}

/**
 * Serves the OpenAPI document of the routes at `GET /openapi.json`, generated from their schemas
 * (@fastify/swagger): never written by hand, so it cannot drift from what the routes validate; and
 * its reference at `GET /docs` (@fastify/swagger-ui).
 */
export async function registerApiDocument(
  app: HttpServer,
  info: {
    title: string;
    version: string;
    description: string;
    serverUrl: string;
    tags: { name: string; description: string }[];
  },
): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: info.title,
        version: info.version,
        description: info.description,
        // Not open source (package.json: UNLICENSED); SPDX names terms of one's own with a LicenseRef.
        license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
        contact: { name: 'Steadfast maintainers' },
      },
      servers: [{ url: info.serverUrl }],
      tags: info.tags,
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // The reference, rendered from the installed package's own assets: no CDN, works offline.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
}
