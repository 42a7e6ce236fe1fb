/**
 * The checkout as a DBOS Transact durable workflow, written as DBOS's documentation shows a user: the
 * workflow id from the request's Idempotency-Key, one step for each thing the checkout does (load the
 * cart, reserve the stock, charge, the order's transaction, sell the stock), each checkpointed in DBOS's
 * system database, and a workflow interrupted by a crash resumed from its last checkpoint when the
 * process starts again. What `npm run bench` measures Steadfast against as the library a TypeScript team
 * would pick for an exactly-once checkout. Not a product: only the bench runs it.
 */
import { randomUUID } from 'node:crypto';
import { DBOS } from '@dbos-inc/dbos-sdk';
import Fastify from 'fastify';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { request } from 'undici';
import { runBenchServer } from './benchServer.ts';
import { dbosSystemDatabaseUrl } from './dbosSystemDatabase.ts';
import { sandboxStripe } from './sandboxStripe.ts';

const { DATABASE_URL, STRIPE_API_BASE, STRIPE_SECRET_KEY, INVENTORY_API_URL, JWT_SECRET } =
  process.env as Record<string, string>;
const systemDatabaseUrl = dbosSystemDatabaseUrl(String(DATABASE_URL));

const stripe = sandboxStripe(String(STRIPE_API_BASE), String(STRIPE_SECRET_KEY));
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
const key = new TextEncoder().encode(JWT_SECRET);

// Its own table: the service's `orders` requires the attempt this flow does not have.
await pool.query(`CREATE TABLE IF NOT EXISTS dbos_orders (
  id uuid PRIMARY KEY, user_id text NOT NULL, cart_id uuid NOT NULL UNIQUE, charge_id text NOT NULL,
  amount_cents integer NOT NULL, items jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);

interface CartLine {
  sku: string;
  quantity: number;
  price_cents: number;
}

/** What the workflow returns, recorded by DBOS as its output: the HTTP answer, replayed for its id. */
export interface CheckoutOutcome {
  status: number;
  body: Record<string, unknown>;
}

async function loadCart(userId: string, cartId: string) {
  const lines = await pool.query<CartLine>(
    `SELECT i.sku, i.quantity, p.price_cents FROM carts c JOIN cart_items i ON i.cart_id = c.id
     JOIN products p ON p.sku = i.sku WHERE c.id = $1 AND c.user_id = $2 AND c.status = 'open'`,
    [cartId, userId],
  );
  // A workflow must be deterministic: its random ids come from a step, so a resumed run reuses them.
  return { lines: lines.rows, reservationId: randomUUID(), orderId: randomUUID() };
}

async function reserveStock(reservationId: string, lines: CartLine[]): Promise<boolean> {
  const response = await request(`${INVENTORY_API_URL}/reservations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      reservationId,
      items: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      ttlSeconds: 900,
    }),
  });
  await response.body.dump();
  if (response.statusCode === 409) return false;
  if (response.statusCode !== 201) throw new Error(`inventory answered ${response.statusCode}`);
  return true;
}

async function charge(amount: number, paymentToken: string, idempotencyKey: string): Promise<string> {
  // A step runs at least once: a run resumed after a crash charges again, so the workflow id is the
  // gateway's idempotency key and that second call is the first one's replay.
  const intent = await stripe.paymentIntents.create(
    {
      amount,
      currency: 'usd',
      payment_method: paymentToken,
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      metadata: { workflowId: idempotencyKey },
    },
    { idempotencyKey },
  );
  return intent.id;
}

async function recordOrder(
  order: { id: string; userId: string; cartId: string; chargeId: string; amount: number },
  lines: CartLine[],
): Promise<void> {
  // A plain step, not a DBOS transaction: DBOS's transactions come from its datasource packages, and
  // every one published (knex 4.5.13, drizzle 4.27.6, postgres 4.24.16, prisma 5.1.10) calls schema
  // functions that dbos-sdk 5.3 no longer exports. A step re-runs when the process dies between this
  // commit and its checkpoint, so the insert tolerates its own earlier run (the order id is the first
  // step's).
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO dbos_orders (id, user_id, cart_id, charge_id, amount_cents, items)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
      [order.id, order.userId, order.cartId, order.chargeId, order.amount, JSON.stringify(lines)],
    );
    await client.query(`UPDATE carts SET status = 'checked_out' WHERE id = $1`, [order.cartId]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

async function sellStock(reservationId: string): Promise<void> {
  const response = await request(`${INVENTORY_API_URL}/reservations/${reservationId}/commit`, {
    method: 'POST',
  });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`inventory answered ${response.statusCode}`);
}

async function checkoutWorkflow(
  userId: string,
  cartId: string,
  paymentToken: string,
): Promise<CheckoutOutcome> {
  const cart = await DBOS.runStep(() => loadCart(userId, cartId), { name: 'loadCart' });
  if (cart.lines.length === 0) return { status: 404, body: { error: 'CART_NOT_FOUND' } };
  const reserved = await DBOS.runStep(() => reserveStock(cart.reservationId, cart.lines), {
    name: 'reserveStock',
  });
  if (!reserved) return { status: 409, body: { error: 'INSUFFICIENT_STOCK' } };
  const amount = cart.lines.reduce((sum, l) => sum + l.price_cents * l.quantity, 0);
  const workflowId = String(DBOS.workflowID);
  const chargeId = await DBOS.runStep(() => charge(amount, paymentToken, workflowId), { name: 'charge' });
  const order = { id: cart.orderId, userId, cartId, chargeId, amount };
  await DBOS.runStep(() => recordOrder(order, cart.lines), { name: 'recordOrder' });
  await DBOS.runStep(() => sellStock(cart.reservationId), { name: 'sellStock' });
  return { status: 201, body: { orderId: cart.orderId, transactionId: chargeId, status: 'CONFIRMED' } };
}
const checkout = DBOS.registerWorkflow(checkoutWorkflow, { name: 'checkout' });

DBOS.setConfig({ name: 'steadfast-bench-dbos', systemDatabaseUrl, logLevel: 'warn' });
await DBOS.launch();

const app = Fastify();
app.post<{ Body: { cartId: string; paymentToken: string } }>('/api/checkout/complete', async (req, reply) => {
  const { payload } = await jwtVerify(String(req.headers.authorization).slice(7), key);
  const userId = payload.sub as string;
  const { cartId, paymentToken } = req.body;
  // Workflow ids are global: the key is scoped to its user, so no one replays another user's order.
  const idempotencyKey = req.headers['idempotency-key'];
  const workflowID = `${userId}:${typeof idempotencyKey === 'string' ? idempotencyKey : randomUUID()}`;
  const handle = await DBOS.startWorkflow(checkout, { workflowID })(userId, cartId, paymentToken);
  const outcome = await handle.getResult();
  return reply.code(outcome.status).send(outcome.body);
});

await runBenchServer(app, pool, () => DBOS.shutdown({ workflowCompletionTimeoutMS: 10_000 }));
