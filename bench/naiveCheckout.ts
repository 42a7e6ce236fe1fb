/**
 * The seed article's checkout as a user would copy it: read the cart, check stock with a GET, charge,
 * then the order and the cart's status in one transaction. No reservation, no phases, no keys, no
 * recovery: a crash after the charge loses the order, two requests may charge twice, stock may be sold
 * twice. What `npm run bench` measures Steadfast's price for those guarantees against. Not a product.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { request } from 'undici';
import { runBenchServer } from './benchServer.ts';
import { sandboxStripe } from './sandboxStripe.ts';

const { DATABASE_URL, STRIPE_API_BASE, STRIPE_SECRET_KEY, INVENTORY_API_URL, JWT_SECRET } =
  process.env as Record<string, string>;
const stripe = sandboxStripe(String(STRIPE_API_BASE), String(STRIPE_SECRET_KEY));
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
const key = new TextEncoder().encode(JWT_SECRET);

// Its own table: the service's `orders` requires the attempt this flow does not have.
await pool.query(`CREATE TABLE IF NOT EXISTS naive_orders (
  id uuid PRIMARY KEY, user_id text NOT NULL, cart_id uuid NOT NULL UNIQUE, charge_id text NOT NULL,
  amount_cents integer NOT NULL, items jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);

const app = Fastify();
app.post<{ Body: { cartId: string; paymentToken: string } }>('/api/checkout/complete', async (req, reply) => {
  const { payload } = await jwtVerify(String(req.headers.authorization).slice(7), key);
  const userId = payload.sub as string;
  const { cartId, paymentToken } = req.body;
  const lines = await pool.query<{ sku: string; quantity: number; price_cents: number }>(
    `SELECT i.sku, i.quantity, p.price_cents FROM carts c JOIN cart_items i ON i.cart_id = c.id
     JOIN products p ON p.sku = i.sku WHERE c.id = $1 AND c.user_id = $2 AND c.status = 'open'`,
    [cartId, userId],
  );
  if (lines.rowCount === 0) return reply.code(404).send({ error: 'CART_NOT_FOUND' });
  for (const line of lines.rows) {
    const stock = await request(`${INVENTORY_API_URL}/stock/${line.sku}`);
    const level = (await stock.body.json()) as { available: number };
    if (level.available < line.quantity) return reply.code(409).send({ error: 'INSUFFICIENT_STOCK' });
  }
  const amount = lines.rows.reduce((sum, l) => sum + l.price_cents * l.quantity, 0);
  const charge = await stripe.paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: paymentToken,
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  });
  const chargeId = charge.id;
  const orderId = randomUUID();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      'INSERT INTO naive_orders (id, user_id, cart_id, charge_id, amount_cents, items) VALUES ($1, $2, $3, $4, $5, $6)',
      [orderId, userId, cartId, chargeId, amount, JSON.stringify(lines.rows)],
    );
    await client.query(`UPDATE carts SET status = 'checked_out' WHERE id = $1`, [cartId]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
  return reply.code(201).send({ orderId, transactionId: chargeId, status: 'CONFIRMED' });
});

await runBenchServer(app, pool);
