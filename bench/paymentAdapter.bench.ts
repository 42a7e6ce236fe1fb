/**
 * What the Stripe adapter costs per checkout in the checkout's own process: one charge through
 * StripeGateway (the official SDK over the payment dependency's HttpDependency: breaker, timeout,
 * bulkhead, metrics), beside the same PaymentIntent created by a bare undici POST of the same form body,
 * and by the SDK with its own HTTP client. Same payment sandbox, same run, each in turn for
 * ADAPTER_BENCH_SECONDS (default 5) with ADAPTER_BENCH_CONCURRENCY (default 8) calls at a time,
 * ADAPTER_BENCH_ROUNDS times (default 2). The
 * callers run in a child process of their own, so its CPU time is theirs alone, not the sandbox's.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import qs from 'qs';
import Stripe from 'stripe';
import { request } from 'undici';
import { StripeGateway } from '../src/checkout/gateways/stripe/StripeGateway.ts';
import { HttpDependency } from '../src/platform/dependency/HttpDependency.ts';
import { startPaymentSandbox } from '../test/support/paymentSandbox.ts';

const SECONDS = Number(process.env.ADAPTER_BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.ADAPTER_BENCH_CONCURRENCY ?? 8);
/** Each way is measured this many times, in turn with the others: the first to run pays the warm-up. */
const ROUNDS = Number(process.env.ADAPTER_BENCH_ROUNDS ?? 2);

interface Measured {
  name: string;
  calls: number;
  cpuMs: number;
  wallMs: number;
}

/** The callers: each way of charging, in turn; one line of JSON per way on stdout. */
async function runCallers(url: string, apiKey: string): Promise<void> {
  const params = (attemptId: string) => ({
    amount: 2800,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const },
    metadata: { cartId: randomUUID(), userId: 'usr_bench', attemptId },
  });
  const http = new HttpDependency({
    name: 'paymentGateway',
    baseUrl: url,
    timeoutMs: 5000,
    breakerThreshold: 5,
    halfOpenAfterMs: 30_000,
    maxConcurrent: CONCURRENCY,
    maxQueue: CONCURRENCY,
    overloadStatuses: [429],
  });
  const adapter = new StripeGateway(http, apiKey);
  const origin = new URL(url);
  const sdk = new Stripe(apiKey, {
    host: origin.hostname,
    port: origin.port,
    protocol: 'http',
    maxNetworkRetries: 0,
    telemetry: false,
  });
  const ways: Record<string, (attemptId: string) => Promise<unknown>> = {
    'bare undici POST': async (attemptId) => {
      const answer = await request(`${url}/v1/payment_intents`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/x-www-form-urlencoded',
          'idempotency-key': attemptId,
        },
        body: qs.stringify(params(attemptId)),
      });
      const body = (await answer.body.json()) as { status?: string };
      if (body.status !== 'succeeded') throw new Error(`answered ${answer.statusCode}`);
    },
    'Stripe SDK, its own HTTP client': (attemptId) =>
      sdk.paymentIntents.create(params(attemptId), { idempotencyKey: attemptId }),
    'StripeGateway (the adapter)': async (attemptId) => {
      const result = await adapter.charge({
        attemptId,
        amountCents: 2800,
        currency: 'usd',
        paymentToken: 'pm_card_visa',
        userId: 'usr_bench',
        metadata: { cartId: randomUUID() },
      });
      if (result.outcome !== 'succeeded') throw new Error(result.outcome);
    },
  };
  for (const [name, charge] of Array.from({ length: ROUNDS }, () => Object.entries(ways)).flat()) {
    // Warm the path (connections, the JIT) before the clock.
    for (let i = 0; i < 50; i++) await charge(randomUUID());
    const deadline = performance.now() + SECONDS * 1000;
    const cpu = process.cpuUsage();
    const started = performance.now();
    let calls = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          await charge(randomUUID());
          calls++;
        }
      }),
    );
    const used = process.cpuUsage(cpu);
    const measured: Measured = {
      name,
      calls,
      cpuMs: (used.user + used.system) / 1000,
      wallMs: performance.now() - started,
    };
    process.stdout.write(`${JSON.stringify(measured)}\n`);
  }
  await http.close();
}

if (process.argv[2] === 'callers') {
  await runCallers(String(process.argv[3]), String(process.argv[4]));
} else {
  const sandbox = await startPaymentSandbox();
  try {
    // No IPC channel: it would keep the callers' process alive after their last line.
    const child = spawn(process.execPath, [import.meta.filename, 'callers', sandbox.url, sandbox.apiKey], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`the callers exited with ${code}`);
    // Each way's rounds summed.
    const byName = new Map<string, Measured>();
    for (const line of output.trim().split('\n')) {
      const run = JSON.parse(line) as Measured;
      const sum = byName.get(run.name) ?? { name: run.name, calls: 0, cpuMs: 0, wallMs: 0 };
      byName.set(run.name, {
        name: run.name,
        calls: sum.calls + run.calls,
        cpuMs: sum.cpuMs + run.cpuMs,
        wallMs: sum.wallMs + run.wallMs,
      });
    }
    const rows = [...byName.values()];
    const bare = rows[0] as Measured;
    const perCall = (row: Measured) => row.cpuMs / row.calls;
    console.log(
      `\nPayment adapter: CPU per charge in the caller's process (${CONCURRENCY} at a time, ${ROUNDS} × ${SECONDS} s each)`,
    );
    console.log('| way | charges/s | caller CPU ms per charge | × bare |');
    console.log('|---|---|---|---|');
    for (const row of rows)
      console.log(
        `| ${row.name} | ${Math.round((row.calls * 1000) / row.wallMs)} | ${perCall(row).toFixed(2)} | ${(perCall(row) / perCall(bare)).toFixed(2)} |`,
      );
  } finally {
    await sandbox.close();
  }
}
