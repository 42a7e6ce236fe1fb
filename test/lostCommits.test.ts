import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  type Answer,
  keyedLoad,
  nodeNow,
  postmasterOf,
  primary,
  processesOf,
  signalAll,
  waitHealthy,
  wrapperOf,
} from './support/cluster.ts';
import { runCli } from './support/processes.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

/**
 * The attempt's lease, as by default. A checkout whose answer is lost (a call past its timeout on a busy
 * machine) is settled only when its lease runs out, and a lease later again when recovery must wait (the
 * payment breaker those timeouts opened): the keyed loads give each cart three leases, and a client of
 * its own, so that a cart held by its lease holds up no cart behind it.
 */
const LEASE_MS = 30_000;

// Issue "When the database fails over", point 4: with asynchronous replication a failover loses the last
// commits of the old primary, while the payment provider (here the sandbox, on a server of its own) keeps
// its charges. The test makes that loss happen for sure, then `steadfast reconcile --repair --apply`
// settles what it left, and reconcile is clean with no customer charged without an order.
describe('steadfast start --ha --replication async: lost commits, then reconcile --repair', () => {
  let stack: TestStack;

  const reconcile = async (...args: string[]) => {
    const run = await runCli(
      ['reconcile', ...args],
      { STEADFAST_DATA_DIR: stack.dataDir },
      { unset: (name) => name === 'DATABASE_URL' },
    );
    return { ...run, lines: run.stdout.trim().split('\n') };
  };

  before(async () => {
    stack = await startTestStack(
      {
        CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
        RECOVERY_INTERVAL_MS: '500',
        CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
      },
      ['--ha', '--replication', 'async'],
    );
    await stack.fault('payment', { mode: 'none', webhooks: 'hold' });
  });
  after(() => stack?.stop());

  test('the standby misses the last checkouts, is promoted, and the repair refunds their charges', async () => {
    const ha = stack.info.ha;
    assert.ok(ha);
    assert.equal(ha.replication, 'async');
    await waitHealthy(ha, 'async');
    const old = await primary(ha);
    const standby = ha.nodes.find((n) => n.name !== old.name);
    assert.ok(standby);
    // Asynchronous replication is a choice of availability over the last commits: the standby is promoted
    // however far behind it is.
    const patched = await fetch(`${old.apiUrl}/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ maximum_lag_on_failover: 1024 ** 3 }),
    });
    assert.equal(patched.status, 200, await patched.text());

    const carts = [];
    for (let i = 0; i < 12; i++) carts.push({ ...(await stack.cart(`usr_lost_${i}`)), key: `lost-${i}` });
    const secrets = JSON.parse(
      await (await import('node:fs/promises')).readFile(`${stack.dataDir}/secrets.json`, 'utf8'),
    ) as { paymentApiKey: string };
    const chargesBefore = await charges(stack, secrets.paymentApiKey);
    // Made while both nodes have it: its checkout after the failover times it.
    const probe = { ...(await stack.cart('usr_lost_probe')), key: 'lost-probe' };

    // The standby stops receiving: its WAL receiver paused. What the kernel had buffered for it still
    // arrives when it resumes, so WAL of no interest is written first, enough to fill those buffers; the
    // checkouts after it reach the old primary alone.
    const receiver = await receiverOf(await postmasterOf(await nodeNow(stack, standby.name)));
    process.kill(receiver, 'SIGSTOP');
    const wrapper = await wrapperOf(stack, old.name);
    let killedAt = 0;
    try {
      await fillWal(stack.info.databaseUrl);
      const load = await keyedLoad(stack, carts, { clients: carts.length, deadlineMs: 3 * LEASE_MS });
      for (const cart of carts)
        assert.equal(load.finals.get(cart.cartId), 201, answersOf(load.answers, cart));

      // The old primary dies and stays down; the standby resumes and takes over without those commits.
      process.kill(wrapper, 'SIGSTOP');
      killedAt = Date.now();
      signalAll(await processesOf(stack, old.name), 'SIGKILL');
    } finally {
      process.kill(receiver, 'SIGCONT');
    }
    try {
      await eventually(async () => (await primary(ha)).name === standby.name, 60_000, 'the standby promoted');
    } finally {
      process.kill(wrapper, 'SIGCONT');
    }
    const { answers, finals } = await keyedLoad(stack, [probe], { clients: 1, deadlineMs: 3 * LEASE_MS });
    assert.equal(finals.get(probe.cartId), 201, answersOf(answers, probe));
    const refused = answers.filter((a) => a.status === 503).length;
    process.stdout.write(
      `# asynchronous failover: kill to first 201 ${(answers.at(-1)?.answeredAt ?? 0) - killedAt} ms; ${refused} 503s on the way\n`,
    );

    const db = new pg.Client({ connectionString: stack.info.databaseUrl });
    await db.connect();
    const kept = await db
      .query('SELECT cart_id FROM orders WHERE cart_id = ANY($1)', [carts.map((c) => c.cartId)])
      .finally(() => db.end());
    const lost = carts.length - (kept.rowCount ?? 0);
    const paid = (await charges(stack, secrets.paymentApiKey)).filter(
      (c) => !chargesBefore.some((b) => b.id === c.id),
    );
    process.stdout.write(
      `# lost commits: ${lost} of ${carts.length} orders gone, ${paid.length} charges paid\n`,
    );
    assert.ok(lost > 0, 'the failover lost the last orders');
    assert.equal(paid.length, carts.length + 1, "the provider kept every charge (and the probe's)");

    const report = await reconcile();
    assert.equal(report.code, 1, report.stdout);
    assert.ok(
      report.lines.filter((l) => l.startsWith('BREACH charge_without_order')).length >= lost,
      report.stdout,
    );

    const plan = await reconcile('--repair');
    const planned = plan.lines.filter((l) => l.startsWith('PLAN '));
    assert.ok(planned.length >= lost, plan.stdout);
    const applied = await reconcile('--repair', '--apply');
    const done = applied.lines.filter((l) => l.startsWith('DONE '));
    process.stdout.write(
      `# repair: ${done.filter((l) => l.startsWith('DONE refund')).length} refunds, ` +
        `${done.filter((l) => l.startsWith('DONE release')).length} releases, ` +
        `${applied.lines.filter((l) => l.startsWith('LEFT ')).length} left\n`,
    );
    assert.equal(applied.code, 0, `${applied.stdout}\n${applied.stderr}`);
    assert.deepEqual(
      applied.lines.filter((l) => l.startsWith('DONE ')).sort(),
      planned.map((l) => l.replace(/^PLAN /, 'DONE ')).sort(),
    );

    // No one is charged without an order: each charge of these carts has its order or was refunded.
    const db2 = new pg.Client({ connectionString: stack.info.databaseUrl });
    await db2.connect();
    const orderCharges = new Set(
      (await db2.query('SELECT charge_id FROM orders').finally(() => db2.end())).rows.map((r) => r.charge_id),
    );
    for (const charge of paid) {
      const refunds = await refundsOf(stack, secrets.paymentApiKey, charge.id);
      assert.ok(
        orderCharges.has(charge.id) !== (refunds.length === 1),
        `${charge.id}: an order, or one refund, never both or neither`,
      );
    }
    const clean = await reconcile();
    assert.equal(clean.code, 0, clean.stdout);
    const again = await reconcile('--repair', '--apply');
    assert.equal(again.lines.filter((l) => /^(DONE|FAILED|PLAN) /.test(l)).length, 0, again.stdout);

    // The old primary comes back as a standby of the new one, its lone commits wound back (pg_rewind).
    await waitHealthy(ha, 'async');
  });
});

/** What a cart of a keyed load was answered, and when: why it has no 201, when it has none. */
function answersOf(answers: readonly Answer[], cart: { cartId: string; key: string }): string {
  const own = answers.filter((a) => a.cart === cart.cartId);
  const start = own[0]?.sentAt ?? 0;
  return `${cart.key}: ${own.map((a) => `${a.status}${a.error ? ` ${a.error}` : ''} at ${a.answeredAt - start} ms`).join(', ')}`;
}

/** The WAL receiver of a standby's postmaster, once it runs (it may be reconnecting). */
async function receiverOf(postmaster: number): Promise<number> {
  let pid = 0;
  await eventually(
    async () => {
      const found = execFileSync('pgrep', ['-P', String(postmaster), '-f', 'walreceiver']).toString();
      pid = Number(found.trim().split('\n')[0]);
      return pid > 0;
    },
    30_000,
    'the standby streaming',
  );
  return pid;
}

/** About 64 MB of WAL on the primary, in a table of its own. */
async function fillWal(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `CREATE TABLE wal_filler AS SELECT g, repeat('x', 400) AS pad FROM generate_series(1, 150000) g`,
    );
  } finally {
    await client.end();
  }
}

async function charges(stack: TestStack, key: string): Promise<{ id: string; status: string }[]> {
  const all: { id: string; status: string }[] = [];
  let after: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: '100', ...(after ? { starting_after: after } : {}) });
    const response = await fetch(`${stack.info.paymentUrl}/v1/payment_intents?${query}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(response.status, 200);
    const page = (await response.json()) as { data: { id: string; status: string }[]; has_more: boolean };
    all.push(...page.data);
    if (!page.has_more || page.data.length === 0) return all.filter((c) => c.status === 'succeeded');
    after = page.data.at(-1)?.id;
  }
}

async function refundsOf(stack: TestStack, key: string, chargeId: string): Promise<unknown[]> {
  const response = await fetch(`${stack.info.paymentUrl}/v1/refunds?payment_intent=${chargeId}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { data: unknown[] }).data;
}
