import Type from 'typebox';
import { AppError } from '../../platform/errors/AppError.ts';
import { errorResponses } from '../../platform/errors/problem.ts';
import type { HttpServer } from '../../platform/http/createHttpServer.ts';
import type { Authenticate } from '../auth.ts';
import { CheckoutErrors } from '../errors.ts';
import type { CartStore } from './CartStore.ts';

export const CartSchema = Type.Object({
  cartId: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('checked_out')]),
  currency: Type.String(),
  items: Type.Array(
    Type.Object({
      sku: Type.String(),
      name: Type.String(),
      quantity: Type.Integer(),
      unitPriceCents: Type.Integer(),
      lineTotalCents: Type.Integer(),
    }),
  ),
  totalCents: Type.Integer(),
});

const CartParams = Type.Object({ cartId: Type.String({ minLength: 1, maxLength: 64 }) });

export function registerCartRoutes(app: HttpServer, carts: CartStore, authenticate: Authenticate) {
  app.post(
    '/api/carts',
    {
      preHandler: authenticate,
      schema: {
        tags: ['carts'],
        security: [{ bearer: [] }],
        response: { 201: Type.Object({ cartId: Type.String() }), ...errorResponses(401, 503, 500) },
      },
    },
    async (request, reply) => {
      const cartId = await carts.create(request.userId);
      request.logContext.cartId = cartId;
      return reply.code(201).send({ cartId });
    },
  );

  app.get(
    '/api/carts/:cartId',
    {
      preHandler: authenticate,
      schema: {
        tags: ['carts'],
        security: [{ bearer: [] }],
        params: CartParams,
        response: { 200: CartSchema, ...errorResponses(400, 401, 404, 503, 500) },
      },
    },
    async (request) => {
      request.logContext.cartId = request.params.cartId;
      const cart = await carts.find(request.params.cartId, request.userId);
      if (!cart) throw new AppError(CheckoutErrors.CART_NOT_FOUND);
      return cart;
    },
  );

  app.post(
    '/api/carts/:cartId/items',
    {
      preHandler: authenticate,
      schema: {
        tags: ['carts'],
        security: [{ bearer: [] }],
        params: CartParams,
        body: Type.Object(
          {
            sku: Type.String({ minLength: 1, maxLength: 64 }),
            quantity: Type.Integer({ minimum: 1, maximum: 1000 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: CartSchema, ...errorResponses(400, 401, 404, 409, 413, 415, 503, 500) },
      },
    },
    async (request) => {
      const { cartId } = request.params;
      request.logContext.cartId = cartId;
      const outcome = await carts.addItem(cartId, request.userId, request.body.sku, request.body.quantity);
      if (outcome === 'cart_not_found') throw new AppError(CheckoutErrors.CART_NOT_FOUND);
      if (outcome === 'cart_closed') throw new AppError(CheckoutErrors.CART_ALREADY_CHECKED_OUT);
      if (outcome === 'unknown_sku') {
        throw new AppError(CheckoutErrors.UNKNOWN_SKU, { extensions: { sku: request.body.sku } });
      }
      return (await carts.find(cartId, request.userId)) as NonNullable<
        Awaited<ReturnType<CartStore['find']>>
      >;
    },
  );
}
