/**
 * `npm run bench`: the checkout of the local stack under a bounded load, beside three servers measured
 * in the same run on the same machine, same sandboxes, same database, same carts:
 *   - naive: the seed article's flow as a user would copy it (bench/naiveCheckout.ts);
 *   - floor: Steadfast's writes and calls as a bare Fastify route, without the platform layer
 *     (bench/bareCheckout.ts);
 *   - DBOS: the checkout as a DBOS Transact durable workflow (bench/dbosCheckout.ts), each request with
 *     an Idempotency-Key (its workflow id); Steadfast is measured with keys too, beside its plain run.
 * For each: requests/s, p50/p99, peak RSS, and per checkout the transactions committed in each database
 * (DBOS's system database among them), the WAL records written, and the CPU ms of the server,
 * PostgreSQL, inventory and payment.
 * Then resident memory: each service's idle after start and peak under the bench, beside a bare Fastify
 * server's (bench/bareFastify.ts), idle and under a GET load. Then the metrics' price (an instance with
 * METRICS_ENABLED=false beside one with them); tracing's price (instances of the build that landed,
 * BENCH_LANDED_REF, default main; of this build with no OTLP endpoint, traces only propagated; and of
 * this build exporting every span to a collector of the bench's own, measured in turn, BENCH_ROUNDS
 * times); the database pool's size (an instance for each of BENCH_POOL_SIZES, default 5,10,20); overload
 * (2x and 4x the saturation offered at a fixed arrival rate over warm and cold connections, to one
 * instance and to three behind HAProxy: goodput and p99 of shed and served answers); last, the checkout
 * again with 1,000,000 orders and idempotency keys in the tables, and the plans of the recovery worker's
 * scans and of the key purge at that size.
 *
 * BENCH_PARTS (default all: peers,memory,metrics,tracing,pool,overload,grown) picks what runs; each part
 * prints its table as it ends. BENCH_SECONDS (default 10) and BENCH_CONNECTIONS (default 16) size the load; BENCH_ROUNDS (default 2)
 * how often the servers are measured in turn (ratios are of the means); BENCH_ROWS (default
 * 1,000,000) the large tables.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type EventEmitter, once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';
import { RECOVERY_QUERIES } from '../src/checkout/flow/AttemptStore.ts';
import { startOtlpReceiver } from '../test/support/otlpReceiver.ts';
import { readStackEnv, startTestStack } from '../test/support/stack.ts';
import { startBalancedFleet } from './balancedFleet.ts';
import { CostMeter, type CostSnapshot, perCheckout } from './costs.ts';
import { DBOS_SYSTEM_DATABASE } from './dbosSystemDatabase.ts';
import { growTables } from './growTables.ts';
import { landedBuild } from './landedBuild.ts';
import { openLoop } from './openLoop.ts';
import { raisePriority } from './raisePriority.ts';
import { serverQuantileMs } from './serverLatency.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const POOL_SIZES = (process.env.BENCH_POOL_SIZES ?? '5,10,20').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LANDED_REF = process.env.BENCH_LANDED_REF ?? 'main';
const PARTS = new Set(
  (process.env.BENCH_PARTS ?? 'peers,memory,metrics,tracing,pool,overload,grown')
    .split(',')
    .map((p) => p.trim()),
);
const BALANCED_INSTANCES = 3;
const WARM_UP_SECONDS = 2;
const USERS = 50;
// Each checkout closes its cart: make more than a run can use (4x overload offers some 2,000 a second).
const CARTS_PER_RUN = (SECONDS + WARM_UP_SECONDS) * 2_500;

interface Run {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  peakRssMb: number;
  /** Checkouts completed (201) in the measured time. */
  checkouts: number;
  cost: CostSnapshot;
}

const stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000000', LOG_LEVEL: 'warn' });
try {
  const db = new pg.Client({ connectionString: stack.info.databaseUrl });
  await db.connect();
  await db.query(
    `INSERT INTO products (sku, name, price_cents) VALUES ('sku_bench', 'Bench widget', 100) ON CONFLICT DO NOTHING`,
  );
  const restock = await fetch(`${stack.info.inventoryUrl}/stock/sku_bench/restock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ quantity: 1_000_000 }),
  });
  if (!restock.ok) throw new Error(`restock answered ${restock.status}: ${await restock.text()}`);
  const tokens = await Promise.all(Array.from({ length: USERS }, (_, i) => stack.token(`usr_bench_${i}`)));
  const { pids } = stack.info;
  const meter = new CostMeter(
    stack.info.databaseUrl,
    {
      inventory: { pid: pids.inventory ?? 0 },
      payment: { pid: pids.payment ?? 0 },
      ...(pids.postgres ? { postgres: { pid: pids.postgres, withChildren: true } } : {}),
    },
    ['checkout', 'inventory', 'payment_sandbox', DBOS_SYSTEM_DATABASE],
  );
  await meter.connect();
  // Memory idle after start, before any load: the services', and a bare Fastify server's (the floor).
  const services = { checkout: pids.checkout, inventory: pids.inventory, payment: pids.payment };
  const idleRssMb = Object.fromEntries(
    await Promise.all(Object.entries(services).map(async ([name, pid]) => [name, await rssMb(pid)])),
  ) as Record<keyof typeof services, number>;

  const makeCarts = async (): Promise<{ cartId: string; user: number }[]> => {
    const rows = await db.query<{ id: string; user_id: string }>(
      `INSERT INTO carts (user_id) SELECT 'usr_bench_' || (g % ${USERS}) FROM generate_series(1, $1) g RETURNING id, user_id`,
      [CARTS_PER_RUN],
    );
    await db.query(
      `INSERT INTO cart_items (cart_id, sku, quantity) SELECT id, 'sku_bench', 1 FROM carts
       WHERE status = 'open' AND user_id LIKE 'usr_bench_%' AND NOT EXISTS (SELECT 1 FROM cart_items i WHERE i.cart_id = carts.id)`,
    );
    // Fresh statistics for the planner, so that no run meets a plan its new carts would change.
    await db.query('ANALYZE carts, cart_items');
    return rows.rows.map((r) => ({ cartId: r.id, user: Number(r.user_id.slice('usr_bench_'.length)) }));
  };

  /** `keyed`: each request with an Idempotency-Key of its own, as a client that retries safely sends. */
  const checkoutRequest = (carts: { cartId: string; user: number }[], keyed = false) => {
    let next = 0;
    return () => {
      const cart = carts[next++ % carts.length] as { cartId: string; user: number };
      return {
        path: '/api/checkout/complete',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${tokens[cart.user]}`,
          ...(keyed ? { 'idempotency-key': randomUUID() } : {}),
        },
        body: JSON.stringify({ cartId: cart.cartId, paymentToken: 'pm_card_visa' }),
      };
    };
  };

  /** A closed-loop run against `url`; its costs are read between 2 s in and 1 s before the end. */
  const load = async (url: string, serverPid: number | undefined, keyed = false): Promise<Run> => {
    const next = checkoutRequest(await makeCarts(), keyed);
    // A server fresh from its start runs cold code: it is warmed up first, unmeasured.
    await autocannon({
      url,
      connections: CONNECTIONS,
      duration: WARM_UP_SECONDS,
      requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, ...next() }) }],
    });
    let completed = 0;
    // Without a callback autocannon answers a promise that is also its event emitter.
    const run = autocannon({
      url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, ...next() }) }],
    }) as unknown as Promise<autocannon.Result> & EventEmitter;
    run.on('response', (_client: unknown, statusCode: number) => {
      if (statusCode === 201) completed++;
    });
    const at = (seconds: number) =>
      new Promise<{ snapshot: CostSnapshot; completed: number }>((resolve, reject) => {
        setTimeout(() => {
          const count = completed;
          meter
            .snapshot({ server: serverPid ?? 0 })
            .then((snapshot) => resolve({ snapshot, completed: count }), reject);
        }, seconds * 1000);
      });
    const [first, last, result] = await Promise.all([at(2), at(SECONDS - 1), run]);
    return {
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx + result.errors + result.timeouts,
      peakRssMb: await peakRssMb(serverPid),
      checkouts: completed,
      cost: perCheckout(first.snapshot, last.snapshot, last.completed - first.completed),
    };
  };

  const startServer = async (file: string) => {
    const child = fork(new URL(file, import.meta.url), {
      env: { ...process.env, ...(await readStackEnv(stack.dataDir)) },
      stdio: 'inherit',
    });
    const [ready] = (await once(child, 'message')) as [{ url: string }];
    return { child, url: ready.url };
  };

  const loadServer = async (file: string, keyed = false) => {
    const server = await startServer(file);
    const run = await load(server.url, server.child.pid, keyed);
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
    return run;
  };
  const row = (name: string, r: Run) => {
    const c = r.cost;
    const cpuTotal = Object.values(c.cpuMs).reduce((a, b) => a + b, 0);
    return (
      `| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.peakRssMb.toFixed(0)} | ${r.non2xx} ` +
      `| ${fmt(c.commits.checkout)} / ${fmt(c.commits.inventory)} / ${fmt(c.commits.payment_sandbox)} / ${fmt(c.commits[DBOS_SYSTEM_DATABASE])} ` +
      `| ${fmt(c.walRecords)} ` +
      `| ${fmt(c.cpuMs.server)} | ${fmt(c.cpuMs.postgres)} | ${fmt(c.cpuMs.inventory)} | ${fmt(c.cpuMs.payment)} | ${fmt(cpuTotal)} |`
    );
  };
  const ratio = (name: string, a: Run, b: Run) =>
    `${name}: throughput ${(a.rps / b.rps).toFixed(2)}, p50 ${(a.p50 / b.p50).toFixed(2)}, p99 ${(a.p99 / b.p99).toFixed(2)}, ` +
    `peak RSS ${(a.peakRssMb / b.peakRssMb).toFixed(2)}`;
  const table = (title: string) => {
    console.log(`\n${title}: ${CONNECTIONS} connections, ${SECONDS} s each, 127.0.0.1`);
    console.log(
      '| server | req/s | p50 ms | p99 ms | peak RSS MB | non-2xx ' +
        '| commits per checkout (checkout / inventory / payment / DBOS system db) ' +
        '| WAL records | CPU ms: server | PostgreSQL | inventory | payment | total |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  };
  const over = ROUNDS > 1 ? `, means of ${ROUNDS} rounds` : '';

  if (PARTS.has('peers')) {
    // All in turn, more than once: on a noisy machine one run of each says little, and the order of runs
    // (tables and WAL growing) would favour whichever ran first. DBOS's exactly-once rests on the
    // workflow id the key gives, so it is loaded with keys, and Steadfast with them too for a like pair.
    const rounds: { naive: Run; floor: Run; service: Run; serviceKeyed: Run; dbos: Run }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rounds.push({
        naive: await loadServer('./naiveCheckout.ts'),
        floor: await loadServer('./bareCheckout.ts'),
        service: await load(stack.info.checkoutUrl, pids.checkout),
        serviceKeyed: await load(stack.info.checkoutUrl, pids.checkout, true),
        dbos: await loadServer('./dbosCheckout.ts', true),
      });
    }
    table('checkout under load');
    rounds.forEach((r, i) => {
      const round = ROUNDS > 1 ? ` #${i + 1}` : '';
      console.log(row(`naive article flow${round}`, r.naive));
      console.log(row(`floor (bare Fastify route)${round}`, r.floor));
      console.log(row(`steadfast checkout${round}`, r.service));
      console.log(row(`steadfast checkout, Idempotency-Key${round}`, r.serviceKeyed));
      console.log(row(`DBOS workflow, Idempotency-Key${round}`, r.dbos));
    });
    const naive = meanOf(rounds.map((r) => r.naive));
    const service = meanOf(rounds.map((r) => r.service));
    const dbos = meanOf(rounds.map((r) => r.dbos));
    console.log(ratio(`steadfast / naive${over}`, service, naive));
    console.log(ratio(`steadfast / floor${over}`, service, meanOf(rounds.map((r) => r.floor))));
    console.log(ratio(`steadfast / DBOS${over}`, service, dbos));
    console.log(ratio(`steadfast with keys / DBOS${over}`, meanOf(rounds.map((r) => r.serviceKeyed)), dbos));
  }

  if (PARTS.has('memory')) {
    const bare = await startServer('./bareFastify.ts');
    const bareIdleRssMb = await rssMb(bare.child.pid);
    await autocannon({ url: `${bare.url}/hello`, connections: CONNECTIONS, duration: SECONDS });
    const barePeakRssMb = await peakRssMb(bare.child.pid);
    bare.child.kill('SIGTERM');
    await once(bare.child, 'exit');
    // Each service's peak over every run so far.
    const servicePeakRssMb = Object.fromEntries(
      await Promise.all(Object.entries(services).map(async ([name, pid]) => [name, await peakRssMb(pid)])),
    ) as Record<keyof typeof services, number>;
    console.log(`\nresident memory (MB), against a bare Fastify server on the same Node:`);
    console.log('| process | idle after start | peak under the bench | idle × floor | peak × floor |');
    console.log('|---|---|---|---|---|');
    const memoryRow = (name: string, idle: number, peak: number) =>
      console.log(
        `| ${name} | ${idle.toFixed(0)} | ${peak.toFixed(0)} | ${(idle / bareIdleRssMb).toFixed(2)} | ${(peak / barePeakRssMb).toFixed(2)} |`,
      );
    memoryRow('bare Fastify (the floor)', bareIdleRssMb, barePeakRssMb);
    for (const name of Object.keys(services) as (keyof typeof services)[])
      memoryRow(name, idleRssMb[name], servicePeakRssMb[name]);
  }

  if (PARTS.has('metrics')) {
    const withMetrics = await stack.serve();
    const withoutMetrics = await stack.serve({ METRICS_ENABLED: 'false' });
    const metricsOn = await load(withMetrics.url, withMetrics.child.pid);
    const metricsOff = await load(withoutMetrics.url, withoutMetrics.child.pid);
    for (const instance of [withMetrics, withoutMetrics]) instance.child.kill('SIGTERM');
    await Promise.all([withMetrics.exited, withoutMetrics.exited]);
    table("the metrics' price");
    console.log(row('instance, metrics on', metricsOn));
    console.log(row('instance, METRICS_ENABLED=false', metricsOff));
    console.log(ratio('cost of the metrics (on / off)', metricsOn, metricsOff));
  }

  if (PARTS.has('tracing')) {
    // Tracing's price, the three in turn each round: the landed build (before OpenTelemetry, when it is
    // main), this build with no endpoint (propagation only), this build exporting every span over OTLP/HTTP
    // to a collector of the bench's own (it parses and counts them). The sandboxes export nothing.
    const collector = await startOtlpReceiver({ keepSpans: false });
    const landed = await landedBuild(LANDED_REF);
    const tracingVariants = {
      landed: { env: { STEADFAST_COMMIT: landed.commit }, cli: landed.cli },
      propagated: { env: { OTEL_EXPORTER_OTLP_ENDPOINT: '' }, cli: undefined },
      exported: {
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
        cli: undefined,
      },
    };
    type Variant = keyof typeof tracingVariants;
    const tracingRuns: Record<Variant, Run[]> = { landed: [], propagated: [], exported: [] };
    let exportedCheckouts = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, variant] of Object.entries(tracingVariants) as [
        Variant,
        (typeof tracingVariants)[Variant],
      ][]) {
        const instance = await stack.serve(variant.env, variant.cli ? { cli: variant.cli } : {});
        const run = await load(instance.url, instance.child.pid);
        tracingRuns[name].push(run);
        instance.child.kill('SIGTERM');
        await instance.exited;
        if (name === 'exported') exportedCheckouts += run.checkouts;
      }
    }
    await landed.remove();
    await collector.close();
    const tracing = {
      landed: meanOf(tracingRuns.landed),
      propagated: meanOf(tracingRuns.propagated),
      exported: meanOf(tracingRuns.exported),
    };
    const tracingNames: Record<Variant, string> = {
      landed: `landed build ${landed.commit}`,
      propagated: 'no OTLP endpoint',
      exported: 'spans exported',
    };
    table("tracing's price");
    for (const [name, runs] of Object.entries(tracingRuns) as [Variant, Run[]][])
      for (const [i, run] of runs.entries())
        console.log(row(`instance, ${tracingNames[name]} #${i + 1}`, run));
    const tracingOver = `, means of ${ROUNDS} rounds`;
    console.log(
      ratio(`tracing: no endpoint / landed build${tracingOver}`, tracing.propagated, tracing.landed),
    );
    console.log(ratio(`tracing: exported / landed build${tracingOver}`, tracing.exported, tracing.landed));
    console.log(ratio(`tracing: exported / no endpoint${tracingOver}`, tracing.exported, tracing.propagated));
    console.log(
      `tracing: ${collector.received} spans in ${collector.exports} exports reached the collector, ` +
        `${(collector.received / Math.max(1, exportedCheckouts)).toFixed(1)} per checkout completed while measured (warm-up's included)`,
    );
  }

  if (PARTS.has('pool')) {
    // The database pool's size: one instance for each, everything else as configured (its checkout
    // admission follows the pool).
    table("the database pool's size");
    for (const size of POOL_SIZES) {
      const instance = await stack.serve({ DB_POOL_MAX: String(size) });
      console.log(row(`instance, DB_POOL_MAX=${size}`, await load(instance.url, instance.child.pid)));
      instance.child.kill('SIGTERM');
      await instance.exited;
    }
  }

  if (PARTS.has('overload')) {
    // Overload: 2x and 4x the saturation throughput of each target, measured just before, offered at a
    // fixed arrival rate over connections opened before the clock (warm) and as the load arrives (cold, a
    // flash crowd); first one instance, then three behind HAProxy with the shipped configuration.
    console.log(
      '\noverload, open loop (fixed arrival rate, up to 600 connections), goodput = 201 within 1 s, p99 in ms:',
    );
    console.log(
      '| target | connections | offered | goodput /s | of saturation | shed (by the instances) | other | shed p99 client | served p99 client ' +
        '| shed p99 server ≤ | served p99 server ≤ | admission limit at the end | generator delay p99 | generator cores |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    const fleet = await startBalancedFleet(stack, BALANCED_INSTANCES);
    const targets = [
      {
        name: 'one instance',
        url: stack.info.checkoutUrl,
        pid: pids.checkout,
        scrape: async () => (await fetch(`${stack.info.checkoutUrl}/metrics`)).text(),
      },
      {
        name: `${BALANCED_INSTANCES} instances, HAProxy`,
        url: fleet.url,
        pid: undefined,
        scrape: fleet.scrape,
      },
    ];
    const checkoutRoute = { method: 'POST', route: '/api/checkout/complete' };
    // The clients are other machines in production: the load generator runs ahead of the services on the
    // two cores it shares with them, so that what it measures is theirs, not its own wait for a core.
    const ahead = raisePriority(0);
    if (!ahead) console.log("(the load generator at the services' priority: raising it needs root)");
    try {
      for (const target of targets) {
        const saturation = (await load(target.url, target.pid)).rps;
        for (const connections of ['warm', 'cold'] as const) {
          for (const factor of [2, 4]) {
            const before = await target.scrape();
            const o = await openLoop({
              url: target.url,
              ratePerSecond: saturation * factor,
              seconds: SECONDS,
              budgetMs: 1000,
              connections,
              request: checkoutRequest(await makeCarts()),
            });
            const after = await target.scrape();
            const server = (status: string) =>
              serverQuantileMs(before, after, { ...checkoutRoute, status_class: status }, 0.99);
            console.log(
              `| ${target.name}, saturation ${saturation.toFixed(0)}/s | ${connections} | ${factor}x | ` +
                `${(o.goodput / SECONDS).toFixed(0)} | ${((o.goodput / SECONDS / saturation) * 100).toFixed(0)} % ` +
                `| ${o.shed} (${shedCount(after) - shedCount(before)}) | ${o.other} ${Object.keys(o.otherKinds).length ? JSON.stringify(o.otherKinds) : ''} ` +
                `| ${o.shedP99Ms.toFixed(0)} | ${o.servedP99Ms.toFixed(0)} | ${server('5xx')} | ${server('2xx')} ` +
                `| ${admissionLimits(after).join(' / ')} ` +
                `| ${o.generatorDelayP99Ms.toFixed(0)} | ${o.generatorCores.toFixed(2)} |`,
            );
          }
        }
      }
    } finally {
      if (ahead) setPriority(0);
      await fleet.stop();
    }
  }

  if (PARTS.has('grown')) {
    // Grown tables: the checkout and the recovery worker's scans must not slow down with history.
    const before = await load(stack.info.checkoutUrl, pids.checkout);
    const grown = await growTables(db, ROWS);
    await db.query('VACUUM ANALYZE');
    // The load wrote gigabytes of WAL: flushed now, its checkpoint does not land in the middle of the run.
    await db.query('CHECKPOINT');
    const serviceGrown = await load(stack.info.checkoutUrl, pids.checkout);
    const plans: string[] = [];
    for (const [name, query] of Object.entries(RECOVERY_QUERIES)) {
      await db.query('BEGIN');
      const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query.text}`, query.values);
      await db.query('ROLLBACK');
      plans.push(`${name}:\n${plan.rows.map((r) => `    ${r['QUERY PLAN']}`).join('\n')}`);
    }
    table('grown tables');
    console.log(row('steadfast, before', before));
    console.log(row(`steadfast, ${grown} rows more`, serviceGrown));
    console.log(ratio(`grown tables (${grown} orders and keys) / before`, serviceGrown, before));
    console.log(`\nplans with ${grown} orders and keys in the tables:\n${plans.join('\n')}`);
  }
  await meter.close();
  await db.end();
} finally {
  await stack.stop();
}

/** The mean of several runs of one server (peak RSS: the highest). */
function meanOf(runs: Run[]): Run {
  const mean = (pick: (r: Run) => number) => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
  const last = runs.at(-1) as Run;
  return {
    rps: mean((r) => r.rps),
    p50: mean((r) => r.p50),
    p99: mean((r) => r.p99),
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
    checkouts: mean((r) => r.checkouts),
    cost: last.cost,
  };
}

/** Requests shed so far, for any reason, in a scrape or a fleet's scrapes. */
function shedCount(scrape: string): number {
  return [...scrape.matchAll(/^http_requests_shed_total\{[^}]*\} (\S+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

/** The checkout's admission limit in a scrape, or in each of a fleet's. */
function admissionLimits(scrape: string): number[] {
  return [
    ...scrape.matchAll(/^http_admission_limit\{[^}]*route="\/api\/checkout\/complete"[^}]*\} (\S+)$/gm),
  ].map((m) => Number(m[1]));
}

function fmt(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(1);
}

/** The process's resident memory now (Linux: VmRSS), in MB. */
async function rssMb(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** The process's peak resident memory so far (Linux: VmHWM), in MB. */
async function peakRssMb(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}
