import { timingSafeEqual } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import qs from 'qs';
import Type from 'typebox';
import type { AppError } from '../../platform/errors/AppError.ts';
import type { ErrorRenderer, HttpServer } from '../../platform/http/createHttpServer.ts';
import { StorableString } from '../../platform/http/storableText.ts';
import type { FaultSwitch } from '../faultSwitch.ts';
import type { GatewayAnswer, PaymentStore } from './PaymentStore.ts';
import { errorObject } from './stripeObjects.ts';

/**
 * Errors in Stripe's shape, so the checkout's adapter is written against the real thing: a refused
 * parameter is named in `param`, as Stripe names it (`payment_method`, `metadata[cartId]`).
 */
export const renderStripeError: ErrorRenderer = (error, errorId) => {
  const param = paramOf(error);
  return {
    contentType: 'application/json',
    body: errorObject({
      type: error.status >= 500 ? 'api_error' : 'invalid_request_error',
      code: error.code.toLowerCase(),
      ...(param ? { param } : {}),
      message: error.message,
      ...(errorId ? { request_log_url: errorId } : {}),
    }),
  };
};

/** What the fault switch's `error` mode answers here: Stripe's rate limit, or its `api_error`. */
export function injectedStripeError(status: number): Record<string, unknown> {
  return status === 429
    ? errorObject({
        type: 'rate_limit_error',
        code: 'rate_limit',
        message: 'Too many requests hit the API too quickly.',
      })
    : errorObject({ type: 'api_error', message: 'An error occurred while processing your request.' });
}

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

/**
 * Stripe's encoding of parameters, in bodies (`application/x-www-form-urlencoded`) and query strings:
 * bracket notation for nested keys (`metadata[attemptId]=...`, `created[gte]=...`). Objects without a
 * prototype, so that a metadata key named `constructor` or `__proto__` is a key like any other.
 */
export function parseStripeParams(text: string): Record<string, unknown> {
  return qs.parse(text, {
    plainObjects: true,
    allowPrototypes: true,
    depth: 3,
    arrayLimit: 100,
    parameterLimit: 1000,
  });
}

/** Ids the gateway made (`pi_...`, `re_...`) or a caller names; refused when they cannot be stored. */
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

const Flag = Type.Union([Type.Literal('true'), Type.Literal('false')]);
/** A form value is text: a whole number is its digits. */
const Digits = (max: number) => Type.String({ pattern: `^[0-9]{1,${max}}$` });

const PaymentIntentCreateBody = Type.Object(
  {
    // The largest charge a card gateway takes: 99,999,999 in the currency's smallest unit.
    amount: Type.String({ pattern: '^[1-9][0-9]{0,7}$' }),
    currency: Type.String({ pattern: '^[a-z]{3}$' }),
    payment_method: Id,
    confirm: Type.Optional(Flag),
    metadata: Type.Optional(Metadata),
    automatic_payment_methods: Type.Optional(
      Type.Object(
        {
          enabled: Flag,
          allow_redirects: Type.Optional(Type.Union([Type.Literal('never'), Type.Literal('always')])),
        },
        { additionalProperties: false },
      ),
    ),
    return_url: Type.Optional(StorableString({ minLength: 1, maxLength: 2048 })),
  },
  { additionalProperties: false },
);

const ListQuery = {
  limit: Type.Optional(Digits(3)),
  starting_after: Type.Optional(Id),
};

const CreatedRange = Type.Object(
  {
    gt: Type.Optional(Digits(12)),
    gte: Type.Optional(Digits(12)),
    lt: Type.Optional(Digits(12)),
    lte: Type.Optional(Digits(12)),
  },
  { additionalProperties: false },
);

/** Stripe's `limit`: 1 to 100, 10 when not given. */
function pageSize(limit: string | undefined): number | undefined {
  const size = Number(limit ?? 10);
  return size >= 1 && size <= 100 ? size : undefined;
}

const limitRefused = errorObject({
  type: 'invalid_request_error',
  code: 'parameter_invalid_integer',
  param: 'limit',
  message: 'This value must be greater than or equal to 1 and less than or equal to 100.',
});

function send(reply: import('fastify').FastifyReply, answer: GatewayAnswer) {
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(answer.statusCode).send(answer.body);
}

/** The subset of Stripe's API the checkout's adapter uses: PaymentIntents created and confirmed, refunds, lists. */
export function registerPaymentRoutes(
  app: HttpServer,
  store: PaymentStore,
  faults: FaultSwitch,
  options: { apiKey: string; production: boolean; onEventsRecorded?: () => void },
) {
  const recorded = options.onEventsRecorded ?? (() => {});
  faults.register(app, { production: options.production, errorBody: injectedStripeError });
  const expected = Buffer.from(`Bearer ${options.apiKey}`);

  app.register(async (instance) => {
    instance.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, parseStripeParams(body as string)),
    );
    const api = instance.withTypeProvider<TypeBoxTypeProvider>();
    api.addHook('onRequest', async (request, reply) => {
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return reply.code(401).send(
          errorObject({
            type: 'authentication_error',
            message: 'Invalid API Key provided.',
          }),
        );
      }
    });

    api.post(
      '/v1/payment_intents',
      { schema: { headers: IdempotencyHeaders, body: PaymentIntentCreateBody } },
      async (request, reply) => {
        const { body } = request;
        const answer = await store.createPaymentIntent(
          {
            amount: Number(body.amount),
            currency: body.currency,
            payment_method: body.payment_method,
            confirm: body.confirm === 'true',
            metadata: body.metadata,
          },
          request.headers['idempotency-key'],
          body,
        );
        recorded();
        // The PaymentIntent is stored; the answer is lost on its way back (the unknown-outcome case).
        if (faults.hangsAfterWork()) return faults.hold(request, reply);
        return send(reply, answer);
      },
    );

    api.get(
      '/v1/payment_intents',
      {
        schema: {
          querystring: Type.Object(
            { ...ListQuery, created: Type.Optional(CreatedRange) },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        const { limit, starting_after, created } = request.query;
        const size = pageSize(limit);
        if (size === undefined) return reply.code(400).send(limitRefused);
        const bound = (value: string | undefined, by: number) =>
          value === undefined ? undefined : Number(value) + by;
        return store.listPaymentIntents({
          limit: size,
          startingAfter: starting_after,
          createdGte: bound(created?.gte, 0) ?? bound(created?.gt, 1),
          createdLte: bound(created?.lte, 0) ?? bound(created?.lt, -1),
        });
      },
    );

    api.get(
      '/v1/payment_intents/:id',
      { schema: { params: Type.Object({ id: Id }) } },
      async (request, reply) => {
        const intent = await store.paymentIntent(request.params.id);
        if (intent) return intent;
        return reply.code(404).send(
          errorObject({
            type: 'invalid_request_error',
            code: 'resource_missing',
            param: 'intent',
            message: 'No such payment_intent.',
          }),
        );
      },
    );

    api.post(
      '/v1/refunds',
      {
        schema: {
          headers: IdempotencyHeaders,
          body: Type.Object({ payment_intent: Id }, { additionalProperties: false }),
        },
      },
      async (request, reply) => {
        const answer = await store.refund(request.body.payment_intent, request.headers['idempotency-key']);
        recorded();
        return send(reply, answer);
      },
    );

    api.get(
      '/v1/refunds',
      {
        schema: {
          querystring: Type.Object(
            { ...ListQuery, payment_intent: Type.Optional(Id) },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        const { limit, starting_after, payment_intent } = request.query;
        const size = pageSize(limit);
        if (size === undefined) return reply.code(400).send(limitRefused);
        return store.listRefunds({
          limit: size,
          startingAfter: starting_after,
          paymentIntent: payment_intent,
        });
      },
    );
  });
}
