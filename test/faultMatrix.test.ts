import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Fault, FaultProxy } from './support/faultProxy.ts';
import {
  type ExtraInstance,
  eventually,
  readStackEnv,
  startTestStack,
  type TestStack,
} from './support/stack.ts';

// Every dependency × every network fault, under a bounded steady load, with real sockets: an instance
// of the checkout service reaches PostgreSQL, inventory and payment through fault-injecting proxies.
// Each cell must answer only what the contract gives, in time, keep /health fast, recover once the
// fault is gone without a restart, and leave the books balanced. The table goes to
// test-results/fault-matrix.md (`npm run faults` prints it).
const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));
const LOAD_MS = Number(process.env.FAULT_LOAD_MS ?? 2500);
const CLIENTS = 4;
const CALL_TIMEOUT_MS = 1000;
const HALF_OPEN_MS = 1000;
/** The longest a request may take: its dependency calls' timeouts, with room for the database's. */
const BUDGET_MS = 6000;

const DEPENDENCIES = ['payment', 'inventory', 'database'] as const;
type Dependency = (typeof DEPENDENCIES)[number];

const MODES: { name: string; fault: Fault }[] = [
  { name: 'latency 1.5 s', fault: { mode: 'latency', latencyMs: 1500 } },
  { name: 'hang', fault: { mode: 'hang' } },
  { name: 'reset at connect', fault: { mode: 'reset' } },
  { name: 'reset after 60 bytes', fault: { mode: 'reset', afterBytes: 60 } },
  { name: 'refuse', fault: { mode: 'refuse' } },
  { name: 'slow bytes (200 B/s)', fault: { mode: 'slow', bytesPerSecond: 200 } },
  { name: 'half-open close', fault: { mode: 'half-open' } },
  { name: 'reset half the connections', fault: { mode: 'reset', rate: 0.5 } },
];

interface Answer {
  status: number;
  error: string;
  retryAfter: string | null;
  ms: number;
}

const p99 = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.max(0, Math.ceil(values.length * 0.99) - 1)] ?? 0;

describe('fault matrix: every dependency × every network fault', () => {
  let stack: TestStack;
  let instance: ExtraInstance;
  const proxies = {} as Record<Dependency, FaultProxy>;
  const rows: string[] = [];
  let users = 0;

  before(async () => {
    stack = await startTestStack({
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
      CHECKOUT_ATTEMPT_LEASE_MS: '1500',
      RECOVERY_INTERVAL_MS: '300',
      LATE_CHARGE_RECHECK_MS: '2000',
    });
    await stack.restock('sku_mug', 100_000);
    const env = await readStackEnv(stack.dataDir);
    const targets: Record<Dependency, string> = {
      payment: env.STRIPE_API_BASE ?? '',
      inventory: env.INVENTORY_API_URL ?? '',
      database: env.DATABASE_URL ?? '',
    };
    for (const dependency of DEPENDENCIES) proxies[dependency] = await FaultProxy.start(targets[dependency]);
    instance = await stack.serve({
      STRIPE_API_BASE: proxies.payment.urlFor(targets.payment),
      INVENTORY_API_URL: proxies.inventory.urlFor(targets.inventory),
      DATABASE_URL: proxies.database.urlFor(targets.database),
      PAYMENT_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
      INVENTORY_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
      PAYMENT_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
      INVENTORY_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
      DB_CONNECT_TIMEOUT_MS: '1000',
      DB_STATEMENT_TIMEOUT_MS: '1500',
      // /health answers within its checks' time box: kept well under the 500 ms the cells demand.
      HEALTH_CHECK_TIMEOUT_MS: '250',
      CHECKOUT_ATTEMPT_LEASE_MS: '1500',
      RECOVERY_INTERVAL_MS: '300',
      LATE_CHARGE_RECHECK_MS: '2000',
    });
  });
  after(async () => {
    await mkdir(RESULTS, { recursive: true });
    const table = [
      '| dependency | fault | requests | statuses | p99 ms | max ms | /health max ms | recovered in ms |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n');
    await writeFile(join(RESULTS, 'fault-matrix.md'), `${table}\n`);
    if (process.env.PRINT_FAULT_MATRIX) process.stdout.write(`\n${table}\n`);
    instance?.child.kill('SIGTERM');
    await instance?.exited;
    for (const proxy of Object.values(proxies)) await proxy?.close();
    await stack?.stop();
  });

  /** One checkout through the faulty instance, for a fresh cart made on the healthy one. */
  const checkoutOnce = async (user: string): Promise<Answer> => {
    const { cartId, token } = await stack.cart(user);
    const response = await stack.api('POST', '/api/checkout/complete', {
      token,
      baseUrl: instance.url,
      body: { cartId, paymentToken: 'pm_card_visa' },
      headers: { 'idempotency-key': `fault-${user}` },
    });
    return {
      status: response.status,
      error: String(response.body.error ?? ''),
      retryAfter: response.headers.get('retry-after'),
      ms: response.elapsedMs,
    };
  };

  for (const dependency of DEPENDENCIES) {
    for (const { name, fault } of MODES) {
      test(`${dependency}: ${name}`, async () => {
        const cellUsers: string[] = [];
        await proxies[dependency].set(fault);
        const answers: Answer[] = [];
        const healthMs: number[] = [];
        const healthStatuses: number[] = [];
        const until = Date.now() + LOAD_MS;
        const client = async () => {
          while (Date.now() < until) {
            const user = `usr_fault_${users++}`;
            cellUsers.push(user);
            answers.push(await checkoutOnce(user));
          }
        };
        const health = async () => {
          while (Date.now() < until) {
            const started = performance.now();
            const response = await fetch(`${instance.url}/health`);
            const body = (await response.json()) as { status?: string };
            healthMs.push(performance.now() - started);
            healthStatuses.push(response.status);
            assert.ok(body.status, '/health tells its status');
            await sleep(250);
          }
        };
        await Promise.all([...Array.from({ length: CLIENTS }, client), health()]);
        const breaker = dependency === 'database' ? undefined : await breakerState(dependency);
        await proxies[dependency].set({ mode: 'none' });

        const cleared = performance.now();
        await eventually(
          async () => {
            const user = `usr_fault_${users++}`;
            cellUsers.push(user);
            return (await checkoutOnce(user)).status === 201;
          },
          HALF_OPEN_MS + 3 * BUDGET_MS,
          `a checkout through the ${dependency} once its fault is gone`,
        );
        const recoveredMs = performance.now() - cleared;
        // Back within the breaker's probe delay, and the one slow call that may still be under way.
        assert.ok(
          recoveredMs < HALF_OPEN_MS + CALL_TIMEOUT_MS + 1000,
          `recovered in ${recoveredMs.toFixed(0)} ms, not within the breaker's probe delay`,
        );

        const statuses = Map.groupBy(answers, (a) => `${a.status}${a.error ? ` ${a.error}` : ''}`);
        rows.push(
          `| ${dependency} | ${name} | ${answers.length} | ${[...statuses].map(([s, list]) => `${s} ×${list.length}`).join(', ')} ` +
            `| ${p99(answers.map((a) => a.ms)).toFixed(0)} | ${Math.max(...answers.map((a) => a.ms)).toFixed(0)} ` +
            `| ${Math.max(...healthMs).toFixed(0)} | ${recoveredMs.toFixed(0)} |`,
        );

        for (const a of answers) {
          assert.ok(
            a.status === 201 || a.status === 409 || a.status === 503,
            `only what the contract gives for a dependency fault: ${JSON.stringify(a)}`,
          );
          if (a.status === 503 || a.status === 409)
            assert.ok(a.retryAfter, `a 503 or 409 says when to retry: ${JSON.stringify(a)}`);
          if (a.status === 409)
            assert.ok(
              ['CHECKOUT_IN_PROGRESS', 'IDEMPOTENCY_KEY_IN_USE'].includes(a.error),
              JSON.stringify(a),
            );
          assert.ok(a.ms <= BUDGET_MS, `no request outlives its budget: ${JSON.stringify(a)}`);
        }
        assert.ok(
          Math.max(...healthMs) < 500,
          `/health answers in under 500 ms: ${healthMs.map(Math.round)}`,
        );
        // A fault on every connection opens the breaker; one on a share of them may not (its threshold counts
        // consecutive failures), and need not.
        const total = !('rate' in fault) || fault.rate === undefined || fault.rate === 1;
        if (breaker !== undefined && total && answers.filter((a) => a.status === 503).length >= 5)
          assert.equal(breaker, 2, `the ${dependency} breaker opened under the fault`);
        if (dependency !== 'database')
          await eventually(
            async () => (await breakerState(dependency)) === 0,
            5000,
            'the breaker closed again',
          );

        await eventually(
          async () =>
            (await Promise.all(cellUsers.map((userId) => stack.settled({ userId })))).every(Boolean),
          30_000,
          'every attempt of the cell settled',
        );
        const reconciled = await stack.reconcile();
        assert.equal(reconciled.code, 0, reconciled.stdout);
      });
    }
  }

  async function breakerState(dependency: 'payment' | 'inventory'): Promise<number | undefined> {
    const name = dependency === 'payment' ? 'paymentGateway' : 'inventoryService';
    const text = await (await fetch(`${instance.url}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('circuit_breaker_state{') && l.includes(`"${name}"`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : undefined;
  }
});
