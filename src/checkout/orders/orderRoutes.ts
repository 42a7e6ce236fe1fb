import Type from 'typebox';
import { AppError } from '../../platform/errors/AppError.ts';
import { PlatformErrors } from '../../platform/errors/codes.ts';
import { ANY_ROUTE_ERRORS, errorResponses, successResponse } from '../../platform/http/apiDocument.ts';
import type { HttpServer } from '../../platform/http/createHttpServer.ts';
import { StorableString } from '../../platform/http/storableText.ts';
import { failpoint } from '../../platform/process/failpoint.ts';
import type { Authenticate } from '../auth.ts';
import { API_ERRORS, CheckoutErrors } from '../errors.ts';
import type { OrderStore } from './OrderStore.ts';

const Order = Type.Object({
  orderId: Type.String(),
  status: Type.String(),
  cartId: Type.String(),
  transactionId: Type.String(),
  amountCents: Type.Integer(),
  currency: Type.String(),
  items: Type.Array(Type.Object({ sku: Type.String(), quantity: Type.Integer() })),
  createdAt: Type.String(),
});

export function registerOrderRoutes(app: HttpServer, orders: OrderStore, authenticate: Authenticate) {
  app.get(
    '/api/orders/:orderId',
    {
      preHandler: authenticate,
      schema: {
        operationId: 'getOrder',
        summary: 'Read a confirmed order',
        description:
          "An order the caller placed, with the charge that paid it (`transactionId`). Someone else's order is not found.",
        tags: ['orders'],
        security: [{ bearer: [] }],
        params: Type.Object({ orderId: StorableString({ minLength: 1, maxLength: 64 }) }),
        response: {
          200: successResponse(Order, {
            description: 'The order',
            example: {
              orderId: '9b2e4f1a-6c3d-4e8b-a7f0-1d2c3b4a5e6f',
              status: 'CONFIRMED',
              cartId: '3f6c2a9e-8d1b-4c7a-9e2f-5b8d7c6a1e04',
              transactionId: 'pi_3Pq8rT2eZvKYlo2C1a2b3c4d',
              amountCents: 2800,
              currency: 'usd',
              items: [{ sku: 'sku_mug', quantity: 2 }],
              createdAt: '2026-11-30T08:00:00.000Z',
            },
          }),
          ...errorResponses([
            ...ANY_ROUTE_ERRORS,
            ...API_ERRORS,
            PlatformErrors.VALIDATION_FAILED,
            CheckoutErrors.ORDER_NOT_FOUND,
          ]),
        },
      },
    },
    async (request) => {
      failpoint('orders.read');
      const order = await orders.find(request.params.orderId, request.userId);
      if (!order) throw new AppError(CheckoutErrors.ORDER_NOT_FOUND);
      request.logContext.cartId = order.cartId;
      return order;
    },
  );
}
