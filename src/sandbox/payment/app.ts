import { timingSafeEqual } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ErrorRenderer, HttpServer } from '../../platform/http/createHttpServer.ts';
import type { FaultSwitch } from '../faultSwitch.ts';
import type { ChargeStore } from './ChargeStore.ts';

/** Errors in Stripe's shape, so the checkout's gateway client is written against the real thing. */
export const renderStripeError: ErrorRenderer = (error, errorId) => ({
  contentType: 'application/json',
  body: {
    error: {
      type: error.status >= 500 ? 'api_error' : 'invalid_request_error',
      code: error.code.toLowerCase(),
      message: error.message,
      ...(errorId ? { request_log_url: errorId } : {}),
    },
  },
});

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

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
            source: Type.String({ minLength: 1, maxLength: 255 }),
            metadata: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 500 }))),
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
        schema: { headers: IdempotencyHeaders, body: Type.Object({ charge: Type.String({ minLength: 1 }) }) },
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
            attempt: Type.Optional(Type.String({ minLength: 1 })),
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
            starting_after: Type.Optional(Type.String({ minLength: 1 })),
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

    api.get(
      '/v1/charges/:id',
      { schema: { params: Type.Object({ id: Type.String() }) } },
      async (request, reply) => {
        const charge = await store.get(request.params.id);
        if (!charge)
          return reply.code(404).send({ error: { type: 'invalid_request_error', code: 'resource_missing' } });
        return charge;
      },
    );
  });
}
