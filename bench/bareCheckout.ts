/**
 * The benchmark's floor: the same checkout (same SQL, same calls to inventory and payment) as a bare
 * Fastify route, without the platform layer: no breakers, timeouts, bulkheads, request logging,
 * problem mapping, load shedding or rate limiting. Not a product: only `npm run bench` runs it.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { request } from 'undici';

const { DATABASE_URL, PAYMENT_API_URL, PAYMENT_API_KEY, INVENTORY_API_URL, JWT_SECRET } =
  process.env as Record<string, string>;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
const key = new TextEncoder().encode(JWT_SECRET);

async function call(url: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

const app = Fastify();
app.post<{ Body: { cartId: string; paymentToken: string } }>('/api/checkout/complete', async (req, reply) => {
  const { payload } = await jwtVerify(String(req.headers.authorization).slice(7), key);
  const userId = payload.sub as string;
  const { cartId, paymentToken } = req.body;
  const id = randomUUID();
  const attempt = await transaction(async (tx) => {
    const lines = await tx.query(
      `SELECT i.sku, i.quantity, p.price_cents FROM carts c JOIN cart_items i ON i.cart_id = c.id
       JOIN products p ON p.sku = i.sku WHERE c.id = $1 AND c.user_id = $2 AND c.status = 'open'`,
      [cartId, userId],
    );
    const items = lines.rows.map((l) => ({ sku: l.sku, quantity: l.quantity }));
    const amount = lines.rows.reduce((sum, l) => sum + l.price_cents * l.quantity, 0);
    await tx.query(
      `INSERT INTO checkout_attempts (id, user_id, cart_id, phase, amount_cents, currency, items, locked_until)
       VALUES ($1, $2, $3, 'started', $4, 'usd', $5, now())`,
      [id, userId, cartId, amount, JSON.stringify(items)],
    );
    return { items, amount };
  });
  await call(`${INVENTORY_API_URL}/reservations`, {
    reservationId: id,
    items: attempt.items,
    ttlSeconds: 900,
  });
  await pool.query(`UPDATE checkout_attempts SET phase = 'stock_reserved' WHERE id = $1`, [id]);
  await pool.query(`UPDATE checkout_attempts SET phase = 'payment_pending' WHERE id = $1`, [id]);
  const charge = await call(
    `${PAYMENT_API_URL}/v1/charges`,
    { amount: attempt.amount, currency: 'usd', source: paymentToken, metadata: { attemptId: id } },
    { authorization: `Bearer ${PAYMENT_API_KEY}`, 'idempotency-key': id },
  );
  const chargeId = charge.body.id as string;
  await pool.query(`UPDATE checkout_attempts SET phase = 'charged', charge_id = $2 WHERE id = $1`, [
    id,
    chargeId,
  ]);
  const orderId = randomUUID();
  await transaction(async (tx) => {
    await tx.query(
      `INSERT INTO orders (id, user_id, cart_id, attempt_id, charge_id, amount_cents, currency, items)
       VALUES ($1, $2, $3, $4, $5, $6, 'usd', $7)`,
      [orderId, userId, cartId, id, chargeId, attempt.amount, JSON.stringify(attempt.items)],
    );
    await tx.query(`UPDATE carts SET status = 'checked_out' WHERE id = $1`, [cartId]);
    await tx.query(`UPDATE checkout_attempts SET phase = 'completed' WHERE id = $1`, [id]);
  });
  await call(`${INVENTORY_API_URL}/reservations/${id}/commit`);
  await pool.query('UPDATE checkout_attempts SET stock_committed = true WHERE id = $1', [id]);
  return reply.code(201).send({ orderId, transactionId: chargeId, status: 'CONFIRMED' });
});

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ type: 'listening', url: address });
process.on('SIGTERM', async () => {
  await app.close();
  await pool.end();
  process.exit(0);
});
