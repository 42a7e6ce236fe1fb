import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import Type from 'typebox';
import { logEvent } from '../../contract/logEvents.ts';
import type { Database } from '../../platform/database/Database.ts';
import { AppError } from '../../platform/errors/AppError.ts';
import { PlatformErrors } from '../../platform/errors/codes.ts';
import { errorResponses, Headers, successResponse } from '../../platform/http/apiDocument.ts';
import type { HttpServer } from '../../platform/http/createHttpServer.ts';
import type { Admission } from '../../platform/http/loadShedding.ts';
import { PostgresRateLimitStore } from '../../platform/http/PostgresRateLimitStore.ts';
import { StorableString } from '../../platform/http/storableText.ts';
import type { Authenticate } from '../auth.ts';
import type { CheckoutMetrics } from '../checkoutMetrics.ts';
import { CheckoutErrors } from '../errors.ts';
import type { CheckoutService } from './CheckoutService.ts';
import { CHECKOUT_ERRORS } from './checkoutAnswers.ts';
import type { IdempotencyKeyStore, KeyScope } from './IdempotencyKeyStore.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the checkout has started under an Idempotency-Key: its final 4xx answer is then stored. */
    idempotencyScope?: KeyScope;
  }
}

const CheckoutBody = Type.Object(
  {
    cartId: StorableString({ minLength: 1, maxLength: 64 }),
    paymentToken: StorableString({ minLength: 1, maxLength: 255 }),
    userId: Type.Optional(StorableString({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);

const CheckoutConfirmed = Type.Object({
  orderId: Type.String(),
  transactionId: Type.String(),
  status: Type.Literal('CONFIRMED'),
});

const REPLAYED = {
  'idempotent-replayed': {
    type: 'string' as const,
    description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key.',
  },
};

/**
 * 4xx answers that are not the checkout's final outcome, so never stored for its key: one about the key
 * itself (another body), and every retryable one (in progress, key in use), which a retry must get past.
 */
const NOT_FINAL = new Set<string>([
  CheckoutErrors.IDEMPOTENCY_KEY_MISMATCH.code,
  ...[...Object.values(CheckoutErrors), ...Object.values(PlatformErrors)]
    .filter((definition) => definition.retryable)
    .map((definition) => definition.code),
]);

export async function registerCheckoutRoutes(
  app: HttpServer,
  options: {
    service: CheckoutService;
    db: Database;
    keys: IdempotencyKeyStore;
    authenticate: Authenticate;
    metrics: CheckoutMetrics;
    ratePerMinute: number;
    /** Lets a checkout in, or refuses it at the door past the admission limit (`admissionLimit`). */
    admit: Admission['hook'];
  },
) {
  // The per-user limit holds across every instance: its counters live in the shared database.
  const store = new PostgresRateLimitStore(options.db);
  app.addHook('onClose', async () => store.close());
  await app.register(rateLimit, {
    global: false,
    // The plugin constructs its store itself; this one is made above, around the service's pool.
    store: class {
      constructor() {
        // biome-ignore lint/correctness/noConstructorReturn: hands the plugin the store built around the pool
        return store;
      }
    } as never,
  });

  app.post(
    '/api/checkout/complete',
    {
      onRequest: options.admit,
      preHandler: options.authenticate,
      config: {
        rateLimit: {
          max: options.ratePerMinute,
          timeWindow: 60_000,
          hook: 'preHandler',
          keyGenerator: (request) => `checkout:${request.userId}`,
          errorResponseBuilder: (_request, context) =>
            new AppError(PlatformErrors.RATE_LIMITED, {
              detail: `At most ${context.max} checkouts a minute per user.`,
              retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
            }),
        },
      },
      schema: {
        operationId: 'completeCheckout',
        summary: 'Check out a cart: reserve stock, charge, confirm the order',
        description: [
          'Charges the card for the cart and confirms the order, exactly once.',
          '',
          'Send an `Idempotency-Key` (any unique string per checkout, kept 24 hours) and retry with the same key and body',
          'on a network error, a 503 (after its `Retry-After`) or a 409 `IDEMPOTENCY_KEY_IN_USE` / `CHECKOUT_IN_PROGRESS`:',
          'the retry gets the first final answer again, byte for byte, marked `Idempotent-Replayed: true`, and never a',
          'second charge. A 4xx other than those is final: do not retry it. A 500 carries an `errorId` to quote.',
        ].join('\n'),
        tags: ['checkout'],
        security: [{ bearer: [] }],
        headers: Type.Object({
          'idempotency-key': Type.Optional(
            StorableString({
              minLength: 1,
              maxLength: 255,
              description: 'Makes retries safe: one key, one checkout. Scoped to the caller.',
              examples: ['checkout-3f6c2a9e-1'],
            }),
          ),
        }),
        body: CheckoutBody,
        response: {
          201: successResponse(CheckoutConfirmed, {
            description: 'The order is confirmed and the card charged',
            example: {
              orderId: '9b2e4f1a-6c3d-4e8b-a7f0-1d2c3b4a5e6f',
              transactionId: 'pi_3Pq8rT2eZvKYlo2C1a2b3c4d',
              status: 'CONFIRMED',
            },
            headers: { ...Headers.rateLimit, ...REPLAYED },
          }),
          ...errorResponses(CHECKOUT_ERRORS, { ...Headers.rateLimit, ...REPLAYED }),
        },
      },
      onSend: async (request, reply, payload) => {
        const scope = request.idempotencyScope;
        const code = request.logContext.error as string | undefined;
        if (scope && reply.statusCode >= 400 && reply.statusCode < 500 && !NOT_FINAL.has(code ?? '')) {
          await options.keys
            .storeOutcome(scope, { status: reply.statusCode, body: String(payload) })
            .catch((error: Error) =>
              logEvent(request.log, 'warn', 'idempotent_outcome_not_stored', {
                errorClass: error.name,
                reason: error.message,
              }),
            );
        }
        return payload;
      },
      onResponse: async (request, reply) => {
        const replayed = reply.getHeader('idempotent-replayed') === 'true';
        const error = request.logContext.error as string | undefined;
        options.metrics.checkoutAnswered(
          replayed
            ? 'replayed'
            : (error ?? (reply.statusCode === 201 ? 'completed' : String(reply.statusCode))),
        );
      },
    },
    async (request, reply) => {
      const { cartId, paymentToken, userId } = request.body;
      request.logContext.cartId = cartId;
      // The user is the token's; a body naming someone else gets the answer a stranger's cart gets.
      if (userId !== undefined && userId !== request.userId)
        throw new AppError(CheckoutErrors.CART_NOT_FOUND);
      const key = request.headers['idempotency-key'];
      const scope = key
        ? { userId: request.userId, key, requestHash: requestHash(cartId, paymentToken) }
        : undefined;
      request.idempotencyScope = scope;
      const result = await options.service.complete(
        { userId: request.userId, cartId, paymentToken, key: scope },
        request.log,
      );
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      if (result.order) Object.assign(request.logContext, result.order);
      const contentType =
        result.status >= 400 ? 'application/problem+json' : 'application/json; charset=utf-8';
      // The stored bytes are sent as they are (a replay must be byte for byte), past the typed serializer.
      return reply
        .code(result.status as 201)
        .type(contentType)
        .send(result.body as never);
    },
  );
}

/** What makes two requests "the same" for a key: the cart and the payment token (hashed, never stored). */
function requestHash(cartId: string, paymentToken: string): string {
  return createHash('sha256')
    .update(JSON.stringify([cartId, paymentToken]))
    .digest('hex');
}
