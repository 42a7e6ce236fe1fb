import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// A steady load on the whole stack while the dependencies' faults switch on and off, sampling each
// service's memory, file descriptors, event-loop lag and pool. It fails on a leak (growth from the
// first half of the run to the second, after a warm-up, past the bounds below) or on any breach
// reconcile finds. SOAK_SECONDS sets the length: 60 s in the test suite, `npm run soak` 10 minutes.
// (Measured here: a process's RSS grows for its first minute under load, then holds.)
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const WARM_UP_MS = Math.min(60_000, (SECONDS * 1000) / 3);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? 3000);
const CLIENTS = 4;
/**
 * Growth a service may show between the two halves: more is a leak. RSS and fds by their medians; the
 * heap by its lowest sample (what survives a collection), since it swings with the collector.
 */
const BOUNDS = { rssMb: 60, heapMb: 40, fds: 20 };

interface Sample {
  at: number;
  service: string;
  rssMb: number;
  heapMb: number;
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

describe(`soak: ${SECONDS} s of load with faults switching, no leak, books balanced`, () => {
  let stack: TestStack;

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
    });
    await stack.restock('sku_mug', 1_000_000);
  });
  after(() => stack?.stop());

  const sample = async (service: string, pid: number, url: string): Promise<Sample> => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const metrics = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const metric = (name: string) =>
      Number(/\s(\S+)$/.exec(metrics.split('\n').find((l) => l.startsWith(name)) ?? '')?.[1] ?? 0);
    return {
      at: Date.now(),
      service,
      rssMb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024,
      heapMb: metric('nodejs_heap_size_used_bytes') / 2 ** 20,
      fds: (await readdir(`/proc/${pid}/fd`)).length,
      lagMs: metric('nodejs_eventloop_lag_p99_seconds') * 1000,
      poolActive: metric('db_pool_connections{state="active"'),
    };
  };

  test('steady load, faults on and off, samples within bounds, reconcile clean', async () => {
    const { pids, checkoutUrl, inventoryUrl, paymentUrl } = stack.info;
    const services = [
      { name: 'checkout', pid: pids.checkout ?? 0, url: checkoutUrl },
      { name: 'inventory', pid: pids.inventory ?? 0, url: inventoryUrl },
      { name: 'payment', pid: pids.payment ?? 0, url: paymentUrl },
    ];
    const until = Date.now() + SECONDS * 1000;
    const samples: Sample[] = [];
    const statuses = new Map<number, number>();
    const soakUsers: string[] = [];
    let users = 0;

    const client = async () => {
      while (Date.now() < until) {
        const user = `usr_soak_${users++}`;
        soakUsers.push(user);
        const { cartId, token } = await stack.cart(user);
        // A client as the API asks: one key, retried after Retry-After until a final answer.
        for (let attempt = 0; attempt < 5; attempt++) {
          const response = await stack.api('POST', '/api/checkout/complete', {
            token,
            body: { cartId, paymentToken: 'tok_visa' },
            headers: { 'idempotency-key': `soak-${user}` },
          });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          assert.notEqual(response.status, 500, response.text);
          const retryAfter = response.headers.get('retry-after');
          if (!retryAfter) break;
          await sleep(Math.min(Number(retryAfter) * 1000, 2000));
        }
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
    const sampler = async () => {
      while (Date.now() < until) {
        for (const s of services) samples.push(await sample(s.name, s.pid, s.url));
        await sleep(SAMPLE_MS);
      }
    };
    await Promise.all([...Array.from({ length: CLIENTS }, client), faults(), sampler()]);
    for (const service of ['payment', 'inventory'] as const) await stack.fault(service, { mode: 'none' });

    const table = [
      '| s | service | RSS MB | heap MB | fds | event-loop lag p99 ms | pool active |',
      '|---|---|---|---|---|---|---|',
      ...samples.map(
        (s) =>
          `| ${((s.at - (samples[0]?.at ?? 0)) / 1000).toFixed(0)} | ${s.service} | ${s.rssMb.toFixed(0)} | ${s.heapMb.toFixed(1)} | ${s.fds} | ${s.lagMs.toFixed(1)} | ${s.poolActive} |`,
      ),
    ].join('\n');
    // Growth from the first half of the run to the second, after the warm-up.
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const level = (key: keyof typeof BOUNDS, values: number[]) =>
      key === 'heapMb' ? Math.min(...values) : median(values);
    const start = samples[0]?.at ?? 0;
    const growths = services.flatMap(({ name }) => {
      const own = samples.filter((s) => s.service === name && s.at - start >= WARM_UP_MS);
      const half = Math.floor(own.length / 2);
      const [first, second] = [own.slice(0, half), own.slice(half)];
      assert.ok(first.length > 0 && second.length > 0, 'enough samples after the warm-up');
      return (Object.entries(BOUNDS) as [keyof typeof BOUNDS, number][]).map(([key, bound]) => {
        const [before, after] = [first, second].map((part) =>
          level(
            key,
            part.map((s) => s[key]),
          ),
        );
        return { name, key, bound, before: before ?? 0, after: after ?? 0 };
      });
    });
    const growthTable = [
      '| service | measure | first half | second half | growth | bound |',
      '|---|---|---|---|---|---|',
      ...growths.map(
        (g) =>
          `| ${g.name} | ${g.key} | ${g.before.toFixed(1)} | ${g.after.toFixed(1)} | ${(g.after - g.before).toFixed(1)} | ${g.bound} |`,
      ),
    ].join('\n');
    if (process.env.PRINT_SOAK) {
      process.stdout.write(
        `\n${table}\n\n${growthTable}\nstatuses ${JSON.stringify(Object.fromEntries(statuses))}\n`,
      );
    }
    for (const g of growths) {
      assert.ok(
        g.after - g.before <= g.bound,
        `${g.name}: ${g.key} grew by ${(g.after - g.before).toFixed(1)} (bound ${g.bound})\n${growthTable}\n${table}`,
      );
    }
    assert.ok(
      (statuses.get(201) ?? 0) > 0,
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
