import { timingSafeEqual } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { AppError } from '../../platform/errors/AppError.ts';
import type { ErrorRenderer, HttpServer } from '../../platform/http/createHttpServer.ts';
import { StorableString } from '../../platform/http/storableText.ts';
import type { FaultSwitch } from '../faultSwitch.ts';
import type { ChargeStore } from './ChargeStore.ts';

/**
 * Errors in Stripe's shape, so the checkout's gateway client is written against the real thing: a refused
 * parameter is named in `param`, as Stripe names it (`source`, `metadata[cartId]`).
 */
export const renderStripeError: ErrorRenderer = (error, errorId) => {
  const param = paramOf(error);
  return {
    contentType: 'application/json',
    body: {
      error: {
        type: error.status >= 500 ? 'api_error' : 'invalid_request_error',
        code: error.code.toLowerCase(),
        ...(param ? { param } : {}),
        message: error.message,
        ...(errorId ? { request_log_url: errorId } : {}),
      },
    },
  };
};

/** What a refusal of the request's shape names as its field: a part of the request is no parameter. */
const REQUEST_PARTS = new Set(['body', 'querystring', 'params', 'headers']);

/** The first field a validation refusal names (`fields` of the platform's problem), in Stripe's notation. */
function paramOf(error: AppError): string | undefined {
  const fields = error.extensions.fields;
  const first: unknown = Array.isArray(fields) ? fields[0] : undefined;
  const path = typeof first === 'string' ? first : (first as { field?: unknown } | undefined)?.field;
  if (typeof path !== 'string' || path === '' || REQUEST_PARTS.has(path)) return undefined;
  const [head, ...rest] = path.split('.');
  return `${head}${rest.map((segment) => `[${segment}]`).join('')}`;
}

/** Ids the gateway made (`ch_...`, `re_...`) or a caller names; refused when they cannot be stored. */
const Id = StorableString({ minLength: 1, maxLength: 255 });

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(StorableString({ minLength: 1, maxLength: 255 })),
});

/**
 * Stripe's limits: at most 50 keys, of at most 40 characters, each value a string of at most 500. Every
 * key and value is checked (`additionalProperties`, not a key pattern: `.` matches no line separator, so a
 * pattern would leave some keys' values unchecked), and all of it must be storable in `jsonb`.
 */
const Metadata = Type.Unsafe<Record<string, string>>(
  Type.Object(
    {},
    {
      additionalProperties: StorableString({ maxLength: 500 }),
      propertyNames: StorableString({ minLength: 1, maxLength: 40 }),
      maxProperties: 50,
    },
  ),
);

export function registerPaymentRoutes(
  app: HttpServer,
  store: ChargeStore,
  faults: FaultSwitch,
  options: { apiKey: string; production: boolean },
) {
  faults.register(app, { production: options.production });
  const expected = Buffer.from(`Bearer ${options.apiKey}`);

  app.register(async (instance) => {
    const api = instance.withTypeProvider<TypeBoxTypeProvider>();
    api.addHook('onRequest', async (request, reply) => {
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return reply.code(401).send({
          error: { type: 'authentication_error', message: 'Invalid API key provided.' },
        });
      }
    });

    api.post(
      '/v1/charges',
      {
        schema: {
          headers: IdempotencyHeaders,
          body: Type.Object({
            amount: Type.Integer({ minimum: 1, maximum: 99_999_999 }),
            currency: Type.String({ pattern: '^[a-z]{3}$' }),
            source: StorableString({ minLength: 1, maxLength: 255 }),
            metadata: Type.Optional(Metadata),
          }),
        },
      },
      async (request, reply) => {
        const answer = await store.charge(request.body, request.headers['idempotency-key']);
        // The charge is stored; the answer is lost on its way back (the unknown-outcome case).
        if (faults.hangsAfterWork()) return faults.hold(request, reply);
        return reply.code(answer.statusCode).send(answer.body);
      },
    );

    api.post(
      '/v1/refunds',
      {
        schema: { headers: IdempotencyHeaders, body: Type.Object({ charge: Id }) },
      },
      async (request, reply) => {
        const answer = await store.refund(request.body.charge, request.headers['idempotency-key']);
        return reply.code(answer.statusCode).send(answer.body);
      },
    );

    api.get(
      '/v1/charges',
      {
        schema: {
          querystring: Type.Object({
            // A checkout attempt id, as the charge's `metadata[attemptId]` holds it.
            attempt: Type.Optional(StorableString({ minLength: 1, maxLength: 500 })),
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
            starting_after: Type.Optional(Id),
          }),
        },
      },
      async (request) => {
        const { attempt, limit, starting_after } = request.query;
        const page = await store.list({
          attempt,
          limit: Math.min(Math.max(Number(limit ?? 100), 1), 100),
          startingAfter: starting_after,
        });
        return { object: 'list', data: page.data, has_more: page.hasMore };
      },
    );

    api.get('/v1/charges/:id', { schema: { params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const charge = await store.get(request.params.id);
      if (!charge)
        return reply.code(404).send({ error: { type: 'invalid_request_error', code: 'resource_missing' } });
      return charge;
    });
  });
}
