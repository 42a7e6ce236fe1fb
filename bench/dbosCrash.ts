/**
 * The crash matrix's question asked of the DBOS checkout once: kill -9 its process while a charge is in
 * flight, start it again, let DBOS resume the workflow, then count what the gateway and the database
 * hold. `node bench/dbosCrash.ts`; it starts its own stack and prints what it saw.
 *
 * The gateway is slowed (the sandbox reads a request, then serves it late), so the charge is at the
 * gateway when the process dies and lands after; the fault is lifted before the restart.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { readStackEnv, startTestStack } from '../test/support/stack.ts';
import { dbosSystemDatabaseUrl } from './dbosSystemDatabase.ts';

const GATEWAY_LATENCY_MS = 1500;

const stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000', LOG_LEVEL: 'warn' });
const env = { ...process.env, ...(await readStackEnv(stack.dataDir)) };
const databaseOf = (name: string) => {
  const url = new URL(stack.info.databaseUrl);
  url.pathname = `/${name}`;
  return new pg.Client({ connectionString: url.toString() });
};
const payments = databaseOf('payment_sandbox');
const system = new pg.Client({ connectionString: dbosSystemDatabaseUrl(stack.info.databaseUrl) });
let server: { child: ChildProcess; url: string } | undefined;

const start = async () => {
  const child = fork(new URL('./dbosCheckout.ts', import.meta.url), { env, stdio: 'inherit' });
  const [ready] = (await once(child, 'message')) as [{ url: string }];
  return { child, url: ready.url };
};
const checkout = async (url: string, cartId: string, token: string, key: string) => {
  const response = await fetch(`${url}/api/checkout/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key },
    body: JSON.stringify({ cartId, paymentToken: 'pm_card_visa' }),
  });
  return { status: response.status, body: await response.text() };
};
const gatewayRequests = async () => (await stack.fault('payment', {})).requestsSeen;

try {
  await payments.connect();
  const userId = 'usr_dbos_crash';
  const { cartId, token } = await stack.cart(userId);
  const key = 'crash-key-1';
  const workflowId = `${userId}:${key}`;

  server = await start();
  await stack.fault('payment', { mode: 'latency', latencyMs: GATEWAY_LATENCY_MS });
  const before = await gatewayRequests();
  const inFlight = checkout(server.url, cartId, token, key).catch((error: Error) => ({
    status: 0,
    body: error.message,
  }));
  // The charge is at the gateway once the sandbox has counted its request.
  while ((await gatewayRequests()) === before) await sleep(20);
  server.child.kill('SIGKILL');
  await once(server.child, 'exit');
  const answerBeforeCrash = await inFlight;
  // The charge the dead process sent lands now, as a slow gateway's would.
  await sleep(GATEWAY_LATENCY_MS + 500);
  await stack.fault('payment', { mode: 'none' });
  const chargesAtCrash = await payments.query(
    `SELECT count(*)::int AS n FROM payment_intents WHERE metadata->>'workflowId' = $1`,
    [workflowId],
  );

  const restartedAt = Date.now();
  server = await start();
  await system.connect();
  let status = '';
  while (Date.now() - restartedAt < 60_000) {
    const row = await system.query<{ status: string }>(
      'SELECT status FROM dbos.workflow_status WHERE workflow_uuid = $1',
      [workflowId],
    );
    status = row.rows[0]?.status ?? '';
    if (status === 'SUCCESS' || status === 'ERROR') break;
    await sleep(100);
  }
  const recoveredInMs = Date.now() - restartedAt;
  const retry = await checkout(server.url, cartId, token, key);

  const intents = await payments.query<{ id: string; status: string }>(
    `SELECT id, status FROM payment_intents WHERE metadata->>'workflowId' = $1`,
    [workflowId],
  );
  const orders = await stack.db.query<{ id: string; charge_id: string }>(
    'SELECT id, charge_id FROM dbos_orders WHERE cart_id = $1',
    [cartId],
  );
  const steps = await system.query<{ function_name: string; n: number }>(
    `SELECT function_name, count(*)::int AS n FROM dbos.operation_outputs WHERE workflow_uuid = $1
     GROUP BY function_name, function_id ORDER BY function_id`,
    [workflowId],
  );
  const stock = await stack.stock('sku_mug');

  console.log(
    `\nkill -9 of the DBOS checkout with its charge at the gateway (${GATEWAY_LATENCY_MS} ms late):`,
  );
  console.log(`  the client's request when the process died: ${answerBeforeCrash.status || 'no answer'}`);
  console.log(`  PaymentIntents at the gateway right after the crash: ${chargesAtCrash.rows[0]?.n}`);
  console.log(`  requests the gateway saw in all: ${(await gatewayRequests()) - before}`);
  console.log(`  workflow after the restart: ${status || 'not found'} within ${recoveredInMs} ms`);
  console.log(
    `  the client's retry with its key: ${retry.status} ${retry.body} (steps checkpointed: ${steps.rows
      .map((s) => s.function_name)
      .join(', ')})`,
  );
  const paid = intents.rows.filter((i) => i.status === 'succeeded').length;
  console.log(
    `  PaymentIntents for the workflow: ${intents.rowCount}, paid: ${paid} (${intents.rows.map((i) => `${i.id} ${i.status}`).join(', ')})`,
  );
  console.log(
    `  orders for the cart: ${orders.rowCount} (${orders.rows.map((o) => `${o.id} charge ${o.charge_id}`).join(', ')})`,
  );
  console.log(`  stock of sku_mug: ${JSON.stringify(stock)}`);
} finally {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
  }
  await payments.end().catch(() => {});
  await system.end().catch(() => {});
  await stack.stop();
}
