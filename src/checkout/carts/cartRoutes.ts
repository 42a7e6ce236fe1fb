import Type from 'typebox';
import { AppError } from '../../platform/errors/AppError.ts';
import { PlatformErrors } from '../../platform/errors/codes.ts';
import {
  ANY_ROUTE_ERRORS,
  BODY_ERRORS,
  errorResponses,
  PARSE_ERRORS,
  successResponse,
} from '../../platform/http/apiDocument.ts';
import type { HttpServer } from '../../platform/http/createHttpServer.ts';
import { StorableString } from '../../platform/http/storableText.ts';
import { failpoint } from '../../platform/process/failpoint.ts';
import type { Authenticate } from '../auth.ts';
import { API_ERRORS, CheckoutErrors } from '../errors.ts';
import type { CartStore } from './CartStore.ts';
import { LIMIT_DETAILS } from './cartLimits.ts';

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

const EXAMPLE_CART = {
  cartId: '3f6c2a9e-8d1b-4c7a-9e2f-5b8d7c6a1e04',
  status: 'open' as const,
  currency: 'usd',
  items: [{ sku: 'sku_mug', name: 'Steadfast mug', quantity: 2, unitPriceCents: 1400, lineTotalCents: 2800 }],
  totalCents: 2800,
};

const CartParams = Type.Object({ cartId: StorableString({ minLength: 1, maxLength: 64 }) });

export function registerCartRoutes(app: HttpServer, carts: CartStore, authenticate: Authenticate) {
  app.post(
    '/api/carts',
    {
      preHandler: authenticate,
      schema: {
        operationId: 'createCart',
        summary: 'Create an empty cart',
        description:
          "Creates an open cart owned by the caller (the token's subject). Add items, then check it out.",
        tags: ['carts'],
        security: [{ bearer: [] }],
        response: {
          201: successResponse(Type.Object({ cartId: Type.String() }), {
            description: 'The new cart',
            example: { cartId: EXAMPLE_CART.cartId },
          }),
          ...errorResponses([...ANY_ROUTE_ERRORS, ...PARSE_ERRORS, ...API_ERRORS]),
        },
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
        operationId: 'getCart',
        summary: 'Read a cart',
        description: "The cart with its items, prices and total. Someone else's cart is not found.",
        tags: ['carts'],
        security: [{ bearer: [] }],
        params: CartParams,
        response: {
          200: successResponse(CartSchema, { description: 'The cart', example: EXAMPLE_CART }),
          ...errorResponses([
            ...ANY_ROUTE_ERRORS,
            ...API_ERRORS,
            PlatformErrors.VALIDATION_FAILED,
            CheckoutErrors.CART_NOT_FOUND,
          ]),
        },
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
        operationId: 'addCartItem',
        summary: 'Add units of a product to a cart',
        description:
          'Adds `quantity` units of `sku` (on top of any already there) and answers the whole cart. Reserves nothing: checkout does.',
        tags: ['carts'],
        security: [{ bearer: [] }],
        params: CartParams,
        body: Type.Object(
          {
            sku: StorableString({ minLength: 1, maxLength: 64 }),
            quantity: Type.Integer({ minimum: 1, maximum: 1000 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: successResponse(CartSchema, {
            description: 'The cart, with the item added',
            example: EXAMPLE_CART,
          }),
          ...errorResponses([
            ...ANY_ROUTE_ERRORS,
            ...BODY_ERRORS,
            ...API_ERRORS,
            CheckoutErrors.CART_NOT_FOUND,
            CheckoutErrors.CART_ALREADY_CHECKED_OUT,
            CheckoutErrors.CHECKOUT_IN_PROGRESS,
            CheckoutErrors.UNKNOWN_SKU,
            CheckoutErrors.CART_LIMIT_EXCEEDED,
          ]),
        },
      },
    },
    async (request) => {
      const { cartId } = request.params;
      request.logContext.cartId = cartId;
      failpoint('carts.add_item');
      const outcome = await carts.addItem(cartId, request.userId, request.body.sku, request.body.quantity);
      if (outcome === 'cart_not_found') throw new AppError(CheckoutErrors.CART_NOT_FOUND);
      if (outcome === 'cart_closed') throw new AppError(CheckoutErrors.CART_ALREADY_CHECKED_OUT);
      if (outcome === 'checkout_in_progress') {
        throw new AppError(CheckoutErrors.CHECKOUT_IN_PROGRESS, { retryAfterSeconds: 1 });
      }
      if (outcome === 'unknown_sku') {
        throw new AppError(CheckoutErrors.UNKNOWN_SKU, { extensions: { sku: request.body.sku } });
      }
      if (typeof outcome === 'object') {
        throw new AppError(CheckoutErrors.CART_LIMIT_EXCEEDED, {
          detail: LIMIT_DETAILS[outcome.limitPassed],
        });
      }
      return (await carts.find(cartId, request.userId)) as NonNullable<
        Awaited<ReturnType<CartStore['find']>>
      >;
    },
  );
}
