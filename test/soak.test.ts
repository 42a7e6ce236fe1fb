import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ConstructorTotal,
  constructorGrowth,
  constructorTotals,
  Inspector,
  inspectorUrlInLog,
} from './support/inspector.ts';
import { growthPerRequest, SOAK_RETENTION } from './support/soakVerdict.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// A steady load on the whole stack while the dependencies' faults switch on and off, sampling each
// service's memory, file descriptors, event-loop lag and pool. It fails on a leak or on any breach
// reconcile finds. SOAK_SECONDS sets the length: 60 s in the test suite, `npm run soak` 10 minutes.
//
// A leak is judged by what survives a full collection, per request served: before each sample the
// soak forces a full GC in each service through its inspector, and fits the heap left against the
// requests answered so far. The inspector is opened for this stack's processes alone, from outside:
// `--expose-gc` would need a route or a signal in the product to call gc(), one a production build
// could reach. The load is closed-loop (as fast as the stack answers), so a slow machine
// serves fewer requests and is allowed less growth, a fast one more: the verdict does not depend on
// the machine's speed. RSS (which keeps the heap's high-water mark and the allocator's arenas) and fds
// are reported, with bounds only a real leak would pass.
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
/** One whole cycle of the faults below at least: every error path has run (and been compiled) once. */
const WARM_UP_MS = Math.min(60_000, (SECONDS * 1000) / 3);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? Math.max(3000, Math.min(15_000, SECONDS * 50)));
const CLIENTS = 4;
/** RSS and fds between the halves' medians: reported figures, bounded only against gross leaks. */
const REPORTED_BOUNDS = { rssMb: 100, fds: 50 };
/** SOAK_HEAP_SNAPSHOTS=1: a heap snapshot of each service at the warm-up's end and at the end, compared. */
const SNAPSHOTS = Boolean(process.env.SOAK_HEAP_SNAPSHOTS);
/** SOAK_LEAK_BYTES=n: the checkout is made to keep n bytes per request, to see the verdict catch it. */
const LEAK_BYTES = Number(process.env.SOAK_LEAK_BYTES ?? 0);

/**
 * A leak put into a running process through its inspector: every HTTP request it receives keeps
 * `bytes` of fresh text. Nothing of the product is changed; it proves the soak fails on such a leak.
 */
const leakPerRequest = (bytes: number) => `(() => {
  const http = process.getBuiltinModule('node:http');
  const { randomBytes } = process.getBuiltinModule('node:crypto');
  const kept = (globalThis.soakLeak = []);
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (event, ...args) {
    if (event === 'request') kept.push(randomBytes(${Math.ceil(bytes / 2)}).toString('hex'));
    return emit.call(this, event, ...args);
  };
})()`;

interface Sample {
  at: number;
  service: string;
  /** Requests the soak's clients had had answered by the checkout when the sample was taken. */
  served: number;
  /** Heap in use as the service's own metrics said just before the collection: garbage included. */
  heapBeforeGcMb: number;
  /** What survived the collection. */
  heapMb: number;
  externalMb: number;
  gcMs: number;
  rssMb: number;
  fds: number;
  lagMs: number;
  poolActive: number;
}

const FAULTS = [
  { service: 'payment', fault: { mode: 'error', rate: 0.3 } },
  { service: 'inventory', fault: { mode: 'latency', latencyMs: 300, rate: 0.5 } },
  { service: 'payment', fault: { mode: 'hang', rate: 0.2 } },
  { service: 'inventory', fault: { mode: 'reset', rate: 0.3 } },
  { service: 'payment', fault: { mode: 'charge-then-hang', rate: 0.2 } },
] as const;

const SERVICES = ['checkout', 'inventory', 'payment'] as const;

describe(`soak: ${SECONDS} s of load with faults switching, no leak, books balanced`, () => {
  let stack: TestStack;
  const inspectors = new Map<string, Inspector>();

  before(async () => {
    stack = await startTestStack({
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000000',
      LOG_LEVEL: 'warn',
      CHECKOUT_ATTEMPT_LEASE_MS: '2000',
      RECOVERY_INTERVAL_MS: '500',
      LATE_CHARGE_RECHECK_MS: '3000',
      PAYMENT_TIMEOUT_MS: '1000',
      PAYMENT_BREAKER_HALF_OPEN_MS: '2000',
      INVENTORY_BREAKER_HALF_OPEN_MS: '2000',
      // Each process of this stack opens an inspector on a free loopback port and prints its URL on
      // stderr (so in its log): the soak forces its collections from outside, the product has no way to.
      NODE_OPTIONS: [process.env.NODE_OPTIONS, '--inspect=127.0.0.1:0'].filter(Boolean).join(' '),
    });
    for (const name of SERVICES) {
      inspectors.set(
        name,
        await Inspector.connect(await inspectorUrlInLog(join(stack.dataDir, 'logs', `${name}.log`))),
      );
    }
    await stack.restock('sku_mug', 1_000_000);
    if (LEAK_BYTES > 0) {
      await inspectors.get('checkout')?.send('Runtime.evaluate', { expression: leakPerRequest(LEAK_BYTES) });
    }
  });
  after(async () => {
    for (const inspector of inspectors.values()) inspector.close();
    await stack?.stop();
  });

  const sample = async (service: string, pid: number, url: string, served: number): Promise<Sample> => {
    const inspector = inspectors.get(service) as Inspector;
    // Scraped before the collection: its heap figure is the heap with its garbage, for comparison.
    const scrape = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    assert.equal(scrape.status, 200, `${service}: no metrics at ${url}/metrics`);
    const metrics = await scrape.text();
    const metric = (name: string) =>
      Number(/\s(\S+)$/.exec(metrics.split('\n').find((l) => l.startsWith(name)) ?? '')?.[1] ?? 0);
    const memory = await inspector.memoryAfterFullGc().catch((error: Error) => {
      throw new Error(`${service} (pid ${pid}) stopped answering its inspector: ${error.message}`);
    });
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return {
      at: Date.now(),
      service,
      served,
      heapBeforeGcMb: metric('nodejs_heap_size_used_bytes') / 2 ** 20,
      heapMb: memory.heapUsedBytes / 2 ** 20,
      externalMb: memory.externalBytes / 2 ** 20,
      gcMs: memory.gcMs,
      rssMb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024,
      fds: (await readdir(`/proc/${pid}/fd`)).length,
      lagMs: metric('nodejs_eventloop_lag_p99_seconds') * 1000,
      poolActive: metric('db_pool_connections{state="active"'),
    };
  };

  const snapshotAll = async (): Promise<Map<string, Map<string, ConstructorTotal>>> => {
    const totals = new Map<string, Map<string, ConstructorTotal>>();
    for (const name of SERVICES) {
      totals.set(name, constructorTotals(await (inspectors.get(name) as Inspector).heapSnapshot()));
    }
    return totals;
  };

  test('steady load, faults on and off, post-GC heap flat per request, reconcile clean', async () => {
    const { pids, checkoutUrl, inventoryUrl, paymentUrl } = stack.info;
    const urls = { checkout: checkoutUrl, inventory: inventoryUrl, payment: paymentUrl };
    const services = SERVICES.map((name) => ({ name, pid: pids[name] ?? 0, url: urls[name] }));
    const started = Date.now();
    const until = started + SECONDS * 1000;
    const samples: Sample[] = [];
    const statuses = new Map<string, number>();
    const soakUsers: string[] = [];
    let users = 0;
    let served = 0;

    /** One call as the API asks a client to make it: retried after Retry-After until a final answer. */
    const call = async (step: string, path: string, body: unknown, token: string, key?: string) => {
      for (let attempt = 1; ; attempt++) {
        const response = await stack.api('POST', path, {
          token,
          body,
          ...(key ? { headers: { 'idempotency-key': key } } : {}),
        });
        served++;
        const tally = `${step} ${response.status}`;
        statuses.set(tally, (statuses.get(tally) ?? 0) + 1);
        assert.notEqual(response.status, 500, response.text);
        const retryAfter = response.headers.get('retry-after');
        if (!retryAfter || attempt === 5) return response;
        await sleep(Math.min(Number(retryAfter) * 1000, 2000));
      }
    };
    const client = async () => {
      while (Date.now() < until) {
        const user = `usr_soak_${users++}`;
        soakUsers.push(user);
        const token = await stack.token(user);
        // The soak's own GCs and faults can make the checkout shed a request (503, Retry-After): retried.
        const cart = await call('cart', '/api/carts', undefined, token);
        if (cart.status !== 201) continue;
        const cartId = cart.body.cartId as string;
        const item = { sku: 'sku_mug', quantity: 1 };
        if ((await call('item', `/api/carts/${cartId}/items`, item, token)).status !== 200) continue;
        // One key for the checkout, whatever its retries.
        await call(
          'checkout',
          '/api/checkout/complete',
          { cartId, paymentToken: 'pm_card_visa' },
          token,
          `soak-${user}`,
        );
      }
    };
    const faults = async () => {
      for (let i = 0; Date.now() < until; i++) {
        const { service, fault } = FAULTS[i % FAULTS.length] as (typeof FAULTS)[number];
        await stack.fault(service, fault);
        await sleep(2000);
        await stack.fault(service, { mode: 'none' });
        await sleep(2000);
      }
    };
    let warmSnapshots: Map<string, Map<string, ConstructorTotal>> | undefined;
    const sampler = async () => {
      while (Date.now() < until) {
        if (SNAPSHOTS && !warmSnapshots && Date.now() - started >= WARM_UP_MS) {
          warmSnapshots = await snapshotAll();
        }
        for (const s of services) samples.push(await sample(s.name, s.pid, s.url, served));
        await sleep(SAMPLE_MS);
      }
    };
    await Promise.all([...Array.from({ length: CLIENTS }, client), faults(), sampler()]);
    for (const service of ['payment', 'inventory'] as const) await stack.fault(service, { mode: 'none' });
    // The last sample, at rest: what the run left behind once its requests are answered.
    for (const s of services) samples.push(await sample(s.name, s.pid, s.url, served));

    const table = [
      '| s | service | requests | heap before GC MB | heap after GC MB | external MB | GC ms | RSS MB | fds | event-loop lag p99 ms | pool active |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...samples.map(
        (s) =>
          `| ${((s.at - started) / 1000).toFixed(0)} | ${s.service} | ${s.served} | ${s.heapBeforeGcMb.toFixed(1)} | ${s.heapMb.toFixed(1)} | ${s.externalMb.toFixed(1)} | ${s.gcMs.toFixed(0)} | ${s.rssMb.toFixed(0)} | ${s.fds} | ${s.lagMs.toFixed(1)} | ${s.poolActive} |`,
      ),
    ].join('\n');

    const judged = services.map(({ name }) => {
      const own = samples.filter((s) => s.service === name && s.at - started >= WARM_UP_MS);
      assert.ok(own.length >= 3, `${name}: enough samples after the warm-up (${own.length})`);
      const retained = (['heapMb', 'externalMb'] as const).map((key) => ({
        key,
        ...growthPerRequest(
          own.map((s) => [s.served, s[key]]),
          SOAK_RETENTION,
        ),
      }));
      const half = Math.floor(own.length / 2);
      const median = (values: number[]) =>
        [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
      const reported = (Object.entries(REPORTED_BOUNDS) as [keyof typeof REPORTED_BOUNDS, number][]).map(
        ([key, bound]) => {
          const [first, second] = [own.slice(0, half), own.slice(half)].map((part) =>
            median(part.map((s) => s[key])),
          ) as [number, number];
          return { key, first, second, bound };
        },
      );
      return { name, retained, reported };
    });
    const verdictTable = [
      '| service | retained after GC | at warm-up end | at end | requests judged | fitted growth MB | per 1000 requests MB | allowed MB |',
      '|---|---|---|---|---|---|---|---|',
      ...judged.flatMap(({ name, retained }) =>
        retained.map(
          (r) =>
            `| ${name} | ${r.key} | ${r.first.toFixed(1)} | ${r.last.toFixed(1)} | ${r.requests} | ${r.growthMb.toFixed(2)} | ${r.perThousandMb.toFixed(3)} | ${r.allowedMb.toFixed(1)} |`,
        ),
      ),
      '',
      '| service | reported | first half median | second half median | growth | bound |',
      '|---|---|---|---|---|---|',
      ...judged.flatMap(({ name, reported }) =>
        reported.map(
          (r) =>
            `| ${name} | ${r.key} | ${r.first.toFixed(1)} | ${r.second.toFixed(1)} | ${(r.second - r.first).toFixed(1)} | ${r.bound} |`,
        ),
      ),
    ].join('\n');
    let growthByConstructor = '';
    if (warmSnapshots) {
      const endSnapshots = await snapshotAll();
      growthByConstructor = SERVICES.map((name) => {
        const grown = constructorGrowth(
          warmSnapshots?.get(name) ?? new Map(),
          endSnapshots.get(name) ?? new Map(),
        );
        return [
          `\n${name}: what grew from the warm-up's end to the end, by constructor`,
          '| constructor | count | self KB |',
          '|---|---|---|',
          ...grown.map((g) => `| ${g.name} | ${g.count} | ${(g.selfBytes / 1024).toFixed(1)} |`),
        ].join('\n');
      }).join('\n');
    }
    if (process.env.PRINT_SOAK) {
      process.stdout.write(
        `\n${table}\n\n${verdictTable}\n${growthByConstructor}\nstatuses ${JSON.stringify(Object.fromEntries(statuses))}, requests ${served}\n`,
      );
    }
    for (const { name, retained, reported } of judged) {
      for (const r of retained) {
        assert.ok(
          r.growthMb <= r.allowedMb,
          `${name}: ${r.key} after a full GC grew by ${r.growthMb.toFixed(1)} MB over ${r.requests} requests (allowed ${r.allowedMb.toFixed(1)}); SOAK_HEAP_SNAPSHOTS=1 tells by what\n${verdictTable}\n${table}`,
        );
      }
      for (const r of reported) {
        assert.ok(
          r.second - r.first <= r.bound,
          `${name}: ${r.key} grew by ${(r.second - r.first).toFixed(1)} (bound ${r.bound})\n${verdictTable}\n${table}`,
        );
      }
    }
    assert.ok(
      (statuses.get('checkout 201') ?? 0) > 0,
      `checkouts went through: ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    await eventually(
      () => stack.settled({ userIds: soakUsers }),
      60_000,
      'every attempt of the soak settled',
    );
    const reconciled = await stack.reconcile();
    assert.equal(reconciled.code, 0, reconciled.stdout);
  });
});
