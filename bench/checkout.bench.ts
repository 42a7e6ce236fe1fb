/**
 * `npm run bench`: the checkout of the local stack under a bounded load, beside a floor measured in
 * the same run on the same machine (bench/bareCheckout.ts). Prints requests/s and p50/p99 of both and
 * their ratios. Then prices the metrics: two more instances joined to the stack, one with
 * METRICS_ENABLED=false, loaded one after the other. Last, overload: 2x and 4x the measured saturation
 * offered at a fixed arrival rate; goodput (201 within 1 s) as a share of saturation, p99 of shed and served.
 *
 * BENCH_SECONDS (default 10) and BENCH_CONNECTIONS (default 16) size the load.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { readStackEnv, startTestStack } from '../test/support/stack.ts';
import { openLoop } from './openLoop.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const USERS = 50;
// Each checkout closes its cart: make more than a run can use.
const CARTS_PER_RUN = 40_000;

const stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000000', LOG_LEVEL: 'warn' });
try {
  const db = new pg.Client({ connectionString: stack.info.databaseUrl });
  await db.connect();
  await db.query(
    `INSERT INTO products (sku, name, price_cents) VALUES ('sku_bench', 'Bench widget', 100) ON CONFLICT DO NOTHING`,
  );
  await fetch(`${stack.info.inventoryUrl}/stock/sku_bench/restock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ quantity: 1_000_000 }),
  });
  const tokens = await Promise.all(Array.from({ length: USERS }, (_, i) => stack.token(`usr_bench_${i}`)));

  const makeCarts = async (): Promise<{ cartId: string; user: number }[]> => {
    const rows = await db.query<{ id: string; user_id: string }>(
      `INSERT INTO carts (user_id) SELECT 'usr_bench_' || (g % ${USERS}) FROM generate_series(1, $1) g RETURNING id, user_id`,
      [CARTS_PER_RUN],
    );
    await db.query(
      `INSERT INTO cart_items (cart_id, sku, quantity) SELECT id, 'sku_bench', 1 FROM carts
       WHERE status = 'open' AND user_id LIKE 'usr_bench_%' AND NOT EXISTS (SELECT 1 FROM cart_items i WHERE i.cart_id = carts.id)`,
    );
    return rows.rows.map((r) => ({ cartId: r.id, user: Number(r.user_id.slice('usr_bench_'.length)) }));
  };

  const load = async (url: string) => {
    const carts = await makeCarts();
    let next = 0;
    const result = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          path: '/api/checkout/complete',
          setupRequest: (request) => {
            const cart = carts[next++ % carts.length] as { cartId: string; user: number };
            return {
              ...request,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[cart.user]}` },
              body: JSON.stringify({ cartId: cart.cartId, paymentToken: 'tok_visa' }),
            };
          },
        },
      ],
    });
    const non2xx = result.non2xx + result.errors + result.timeouts;
    return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx };
  };

  const bare = fork(new URL('./bareCheckout.ts', import.meta.url), {
    env: { ...process.env, ...(await readStackEnv(stack.dataDir)) },
    stdio: 'inherit',
  });
  const [ready] = (await once(bare, 'message')) as [{ url: string }];

  // Warm both, then measure: the floor first, then the service.
  const floor = { ...(await load(ready.url)), peakRssMb: await peakRssMb(bare.pid) };
  const service = {
    ...(await load(stack.info.checkoutUrl)),
    peakRssMb: await peakRssMb(stack.info.pids.checkout),
  };
  bare.kill('SIGTERM');
  const withMetrics = await stack.serve();
  const withoutMetrics = await stack.serve({ METRICS_ENABLED: 'false' });
  const metricsOn = { ...(await load(withMetrics.url)), peakRssMb: await peakRssMb(withMetrics.child.pid) };
  const metricsOff = {
    ...(await load(withoutMetrics.url)),
    peakRssMb: await peakRssMb(withoutMetrics.child.pid),
  };
  for (const instance of [withMetrics, withoutMetrics]) instance.child.kill('SIGTERM');

  // Overload: offered 2x and 4x the saturation throughput just measured, at a fixed arrival rate.
  const saturation = service.rps;
  const overload = [];
  for (const factor of [2, 4]) {
    const carts = await makeCarts();
    let next = 0;
    const result = await openLoop({
      url: stack.info.checkoutUrl,
      ratePerSecond: saturation * factor,
      seconds: SECONDS,
      budgetMs: 1000,
      request: () => {
        const cart = carts[next++ % carts.length] as { cartId: string; user: number };
        return {
          path: '/api/checkout/complete',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[cart.user]}` },
          body: JSON.stringify({ cartId: cart.cartId, paymentToken: 'tok_visa' }),
        };
      },
    });
    overload.push({ factor, ...result });
  }
  await db.end();

  const row = (name: string, r: typeof floor) =>
    `${name.padEnd(32)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${String(r.p50).padStart(5)} ms   p99 ${String(r.p99).padStart(5)} ms   peak RSS ${r.peakRssMb.toFixed(0).padStart(4)} MB   non-2xx ${r.non2xx}`;
  console.log(`\ncheckout under load: ${CONNECTIONS} connections, ${SECONDS} s each, 127.0.0.1`);
  console.log(row('floor (bare Fastify route)', floor));
  console.log(row('steadfast checkout', service));
  console.log(
    `ratio (steadfast / floor): throughput ${(service.rps / floor.rps).toFixed(2)}, ` +
      `p50 ${(service.p50 / floor.p50).toFixed(2)}, p99 ${(service.p99 / floor.p99).toFixed(2)}, ` +
      `peak RSS ${(service.peakRssMb / floor.peakRssMb).toFixed(2)}`,
  );
  console.log(row('instance, metrics on', metricsOn));
  console.log(row('instance, METRICS_ENABLED=false', metricsOff));
  console.log(
    `cost of the metrics (on / off): throughput ${(metricsOn.rps / metricsOff.rps).toFixed(2)}, ` +
      `p50 ${(metricsOn.p50 / metricsOff.p50).toFixed(2)}, p99 ${(metricsOn.p99 / metricsOff.p99).toFixed(2)}`,
  );
  console.log(
    `\noverload, open loop (fixed arrival rate), saturation ${saturation.toFixed(0)} checkouts/s, budget 1 s:`,
  );
  for (const o of overload) {
    console.log(
      `  offered ${o.factor}x (${o.offered} in ${SECONDS} s): goodput ${(o.goodput / SECONDS).toFixed(0)}/s = ` +
        `${((o.goodput / SECONDS / saturation) * 100).toFixed(0)} % of saturation; shed ${o.shed} (p99 ${o.shedP99Ms.toFixed(0)} ms), ` +
        `served p99 ${o.servedP99Ms.toFixed(0)} ms, other ${o.other}`,
    );
  }
} finally {
  await stack.stop();
}

/** The process's peak resident memory so far (Linux: VmHWM), in MB. */
async function peakRssMb(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}
