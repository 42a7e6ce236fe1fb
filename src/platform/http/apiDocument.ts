import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { OpenAPIV3 } from 'openapi-types';
import Type, { type TSchema } from 'typebox';
import { AppError, type ErrorDefinition } from '../errors/AppError.ts';
import { PlatformErrors } from '../errors/codes.ts';
import { PROBLEM_CONTENT_TYPE, ProblemSchema, toProblem } from '../errors/problem.ts';
import type { HttpServer } from './createHttpServer.ts';
import { PAGE_HEADERS, PAGE_POLICY } from './pageSecurity.ts';

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
 * (@fastify/swagger): never written by hand, so it cannot drift from what the routes validate. It stays
 * on the API's own port wherever the operator's surfaces listen: it is the contract clients are built
 * from (the typed client is generated from it), and it says nothing the routes do not answer anyway.
 * Its reference page is `registerApiReference`.
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
  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    return app.swagger();
  });
}

/**
 * The one `<style>` element Swagger UI's bundle inserts (5.x, as @fastify/swagger-ui ships it), allowed by
 * its hash rather than all inline style. A new bundle with another style makes the Chromium test of
 * `/docs` fail with a CSP violation that names the new hash.
 */
const SWAGGER_UI_INLINE_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/**
 * The reference of `source`'s document at `GET /docs` on `on` (@fastify/swagger-ui), rendered from the
 * installed package's own assets: no CDN, works offline. On a management listener of its own, the page
 * shows the document as it stands once every route of `source` is registered: call this last.
 *
 * Its Content-Security-Policy is the package's `staticCSP` option with the platform's page policy, not
 * the package's own (`staticCSP: true`), which upgrades every request to https (the page on a plain-http
 * loopback port would load nothing) and lets any site frame it. "Try it out" may call the servers
 * the document names (`connectTo`).
 */
export async function registerApiReference(
  on: HttpServer,
  source: HttpServer,
  options: { connectTo?: readonly string[] } = {},
): Promise<void> {
  if (on !== source) {
    await source.ready();
    // The 3.1 document the dynamic mode generated; the static mode's type names only 2.0 and 3.0.
    const document = source.swagger() as unknown as OpenAPIV3.Document;
    await on.register(swagger, { mode: 'static', specification: { document } });
  }
  const policy: Record<string, string[]> = Object.fromEntries(
    Object.entries(PAGE_POLICY).map(([name, sources]) => [name, [...sources]]),
  );
  policy['connect-src']?.push(...(options.connectTo ?? []));
  policy['style-src']?.push(SWAGGER_UI_INLINE_STYLE);
  await on.register(async (pages) => {
    pages.addHook('onRequest', async (_request, reply) => {
      reply.headers(PAGE_HEADERS);
    });
    await pages.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { deepLinking: true },
      staticCSP: policy,
    });
  });
}
