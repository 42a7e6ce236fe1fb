import Type from 'typebox';
import type { Database } from '../../platform/database/Database.ts';
import { AppError } from '../../platform/errors/AppError.ts';
import { errorResponses } from '../../platform/errors/problem.ts';
import type { HttpServer } from '../../platform/http/createHttpServer.ts';
import type { Authenticate } from '../auth.ts';
import { isUuid } from '../carts/CartStore.ts';
import { CheckoutErrors } from '../errors.ts';

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

export function registerOrderRoutes(app: HttpServer, db: Database, authenticate: Authenticate) {
  app.get(
    '/api/orders/:orderId',
    {
      preHandler: authenticate,
      schema: {
        tags: ['orders'],
        security: [{ bearer: [] }],
        params: Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: Order, ...errorResponses(400, 401, 404, 503, 500) },
      },
    },
    async (request) => {
      const { orderId } = request.params;
      const found = isUuid(orderId)
        ? await db.query<{
            id: string;
            status: string;
            cart_id: string;
            charge_id: string;
            amount_cents: number;
            currency: string;
            items: { sku: string; quantity: number }[];
            created_at: Date;
          }>('SELECT * FROM orders WHERE id = $1 AND user_id = $2', [orderId, request.userId])
        : undefined;
      const row = found?.rows[0];
      if (!row) throw new AppError(CheckoutErrors.ORDER_NOT_FOUND);
      request.logContext.cartId = row.cart_id;
      return {
        orderId: row.id,
        status: row.status,
        cartId: row.cart_id,
        transactionId: row.charge_id,
        amountCents: row.amount_cents,
        currency: row.currency,
        items: row.items,
        createdAt: row.created_at.toISOString(),
      };
    },
  );
}
