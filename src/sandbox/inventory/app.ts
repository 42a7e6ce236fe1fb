import Type from 'typebox';
import type { HttpServer } from '../../platform/http/createHttpServer.ts';
import { StorableString } from '../../platform/http/storableText.ts';
import type { FaultSwitch } from '../faultSwitch.ts';
import { MAX_UNITS_PER_SKU, RESERVATION_STATUSES, type StockStore } from './StockStore.ts';

const Sku = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
const StockLevel = Type.Object({
  sku: Type.String(),
  initial: Type.Integer(),
  available: Type.Integer(),
  reserved: Type.Integer(),
  sold: Type.Integer(),
});
/** A reservation id (a checkout attempt's): any text PostgreSQL can store, refused otherwise. */
const Id = StorableString({ minLength: 1, maxLength: 128 });

/** The inventory service's HTTP interface (docs/architecture.md section 10). All writes are idempotent. */
export function registerInventoryRoutes(
  app: HttpServer,
  store: StockStore,
  faults: FaultSwitch,
  production: boolean,
) {
  faults.register(app, { production });

  app.get('/stock', { schema: { response: { 200: Type.Array(StockLevel) } } }, async () => store.list());

  app.get('/stock/:sku', { schema: { params: Type.Object({ sku: Sku }) } }, async (request, reply) => {
    const level = await store.get(request.params.sku);
    if (!level) return reply.code(404).send({ error: 'UNKNOWN_SKU', sku: request.params.sku });
    return level;
  });

  app.post(
    '/stock/:sku/restock',
    {
      schema: {
        params: Type.Object({ sku: Sku }),
        body: Type.Object({ quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }),
      },
    },
    async (request, reply) => {
      const level = await store.restock(request.params.sku, request.body.quantity);
      if (level) return level;
      return reply
        .code(409)
        .send({ error: 'STOCK_LIMIT_EXCEEDED', sku: request.params.sku, maxUnits: MAX_UNITS_PER_SKU });
    },
  );

  // One page of the reservations of a status, in id order: `after` is the last id of the page before.
  app.get(
    '/reservations',
    {
      schema: {
        querystring: Type.Object({
          status: Type.Union(RESERVATION_STATUSES.map((s) => Type.Literal(s))),
          after: Type.Optional(Id),
          // Digits, as a query string carries them: 1 to 1000, 100 when not given.
          limit: Type.Optional(Type.String({ pattern: '^(1000|[1-9][0-9]{0,2})$' })),
        }),
      },
    },
    async (request) => {
      const { status, after } = request.query;
      const limit = Number(request.query.limit ?? 100);
      const reservations = await store.listReservations(status, after ?? '', limit);
      const last = reservations.at(-1);
      return {
        reservations,
        next: reservations.length === limit && last ? last.reservationId : null,
      };
    },
  );

  app.post(
    '/reservations',
    {
      schema: {
        body: Type.Object({
          reservationId: Id,
          items: Type.Array(
            Type.Object({ sku: Sku, quantity: Type.Integer({ minimum: 1, maximum: 10_000 }) }),
            {
              minItems: 1,
              maxItems: 100,
            },
          ),
          ttlSeconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
        }),
      },
    },
    async (request, reply) => {
      const { reservationId, items, ttlSeconds } = request.body;
      const outcome = await store.reserve(reservationId, items, ttlSeconds);
      if (!outcome.ok) {
        const error = outcome.reason === 'insufficient' ? 'INSUFFICIENT_STOCK' : 'UNKNOWN_SKU';
        return reply.code(409).send({ error, sku: outcome.sku });
      }
      return reply.code(201).send({ reservationId, status: outcome.status, expiresAt: outcome.expiresAt });
    },
  );

  app.post(
    '/reservations/commit',
    {
      schema: {
        body: Type.Object({ reservationIds: Type.Array(Id, { minItems: 1, maxItems: 500 }) }),
      },
    },
    async (request) => ({ committed: await store.commitMany(request.body.reservationIds) }),
  );

  for (const action of ['commit', 'release'] as const) {
    app.post(
      `/reservations/:id/${action}`,
      { schema: { params: Type.Object({ id: Id }) } },
      async (request, reply) => {
        const { id } = request.params;
        const outcome = action === 'commit' ? await store.commit(id) : await store.release(id);
        if (outcome.ok) return { reservationId: id, status: outcome.status };
        if (outcome.status === 'unknown')
          return reply.code(404).send({ error: 'UNKNOWN_RESERVATION', reservationId: id });
        return reply.code(409).send({
          error: `RESERVATION_${outcome.status.toUpperCase()}`,
          reservationId: id,
          status: outcome.status,
        });
      },
    );
  }
}
