/**
 * The benchmark's floor: the same checkout (same statements, the rate limit's counter included, same
 * calls to inventory and payment) as a bare Fastify route, without the platform layer: no breakers,
 * timeouts, bulkheads, request logging, metrics, problem mapping, load shedding, recovery, or error
 * handling. Not a product: only `npm run bench` runs it.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { jwtVerify } from 'jose';
import pg from 'pg';
import Stripe from 'stripe';
import { request } from 'undici';
import { CART_LIMITS } from '../src/checkout/carts/cartLimits.ts';
import { CHECKOUT_STATEMENTS } from '../src/checkout/flow/AttemptStore.ts';
import { RATE_LIMIT_HIT } from '../src/platform/http/PostgresRateLimitStore.ts';
import { runBenchServer } from './benchServer.ts';

const { DATABASE_URL, STRIPE_API_BASE, STRIPE_SECRET_KEY, INVENTORY_API_URL, JWT_SECRET } =
  process.env as Record<string, string>;
// The same SDK and the same request as the service's adapter, over the SDK's own HTTP client.
const base = new URL(String(STRIPE_API_BASE));
const stripe = new Stripe(String(STRIPE_SECRET_KEY), {
  host: base.hostname,
  port: base.port,
  protocol: base.protocol === 'https:' ? 'https' : 'http',
  maxNetworkRetries: 0,
  telemetry: false,
});
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

// Stock is sold after the answer, a batch at a time, as the service does.
let sold: string[] = [];
let selling = Promise.resolve();
async function sell(batch: string[]): Promise<void> {
  await call(`${INVENTORY_API_URL}/reservations/commit`, { reservationIds: batch });
  await pool.query({ name: 'stock_committed', text: CHECKOUT_STATEMENTS.stockCommitted, values: [batch] });
}
const seller = setInterval(() => {
  if (sold.length === 0) return;
  const batch = sold;
  sold = [];
  selling = selling.then(() => sell(batch));
}, 25);

const app = Fastify();
app.post<{ Body: { cartId: string; paymentToken: string } }>('/api/checkout/complete', async (req, reply) => {
  const { payload } = await jwtVerify(String(req.headers.authorization).slice(7), key);
  const userId = payload.sub as string;
  const { cartId, paymentToken } = req.body;
  // The per-user rate limit's counter, shared by every instance: one of the service's writes.
  await pool.query({ name: 'rate_limit_hit', text: RATE_LIMIT_HIT, values: [`checkout:${userId}`, 60_000] });
  const id = randomUUID();
  const started = await pool.query({
    name: 'start',
    text: CHECKOUT_STATEMENTS.start,
    values: [userId, cartId, id, 30000, null, CART_LIMITS.maxTotalCents],
  });
  const attempt = started.rows[0] as { amount_cents: number; items: unknown[] };
  await call(`${INVENTORY_API_URL}/reservations`, {
    reservationId: id,
    items: attempt.items,
    ttlSeconds: 900,
  });
  const charge = await stripe.paymentIntents.create(
    {
      amount: attempt.amount_cents,
      currency: 'usd',
      payment_method: paymentToken,
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      metadata: { userId, attemptId: id, cartId },
    },
    { idempotencyKey: id },
  );
  const chargeId = charge.id;
  const orderId = randomUUID();
  const body = JSON.stringify({ orderId, transactionId: chargeId, status: 'CONFIRMED' });
  await pool.query({
    name: 'complete',
    text: CHECKOUT_STATEMENTS.complete,
    values: [id, chargeId, orderId, 201, body],
  });
  sold.push(id);
  return reply.code(201).type('application/json').send(body);
});

await runBenchServer(app, pool, async () => {
  clearInterval(seller);
  await selling;
});
