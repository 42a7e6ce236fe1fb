import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { runCli } from './support/processes.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// Issue "reconcile --repair": after a failover with asynchronous replication or a restore, the checkout
// database has lost its last commits while the gateway and the inventory kept theirs. The repair settles
// what that leaves, as recovery would: no customer charged without an order, no stock held for nobody.

describe('steadfast reconcile --repair: what lost commits leave, settled once', () => {
  let stack: TestStack;
  let paymentKey: string;

  const reconcile = async (...args: string[]) => {
    const run = await runCli(
      ['reconcile', ...args],
      { STEADFAST_DATA_DIR: stack.dataDir },
      { unset: (name) => name === 'DATABASE_URL' },
    );
    return { ...run, lines: run.stdout.trim().split('\n') };
  };
  const refundsOf = async (chargeId: string) => {
    const response = await fetch(`${stack.info.paymentUrl}/v1/refunds?payment_intent=${chargeId}`, {
      headers: { authorization: `Bearer ${paymentKey}` },
    });
    assert.equal(response.status, 200);
    return ((await response.json()) as { data: { id: string }[] }).data;
  };
  const reservations = async (query: string) => {
    const response = await fetch(`${stack.info.inventoryUrl}/reservations?${query}`);
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as {
      reservations: { reservationId: string; status: string; items: { sku: string; quantity: number }[] }[];
      next: string | null;
    };
  };
  const reserve = async (reservationId: string, quantity: number) => {
    const response = await fetch(`${stack.info.inventoryUrl}/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reservationId, items: [{ sku: 'sku_mug', quantity }], ttlSeconds: 3600 }),
    });
    assert.equal(response.status, 201, await response.text());
  };

  before(async () => {
    stack = await startTestStack({
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
      // No recovery round in the test's time: the attempt left open stays open until the client's retry.
      RECOVERY_INTERVAL_MS: '3600000',
    });
    paymentKey = (
      JSON.parse(await readFile(`${stack.dataDir}/secrets.json`, 'utf8')) as { paymentApiKey: string }
    ).paymentApiKey;
    // The provider's webhooks would find the lost attempts gone and change nothing; held, they cannot race.
    await stack.fault('payment', { mode: 'none', webhooks: 'hold' });
  });
  after(() => stack?.stop());

  test('listed, planned, repaired, then clean; a second repair does nothing', async () => {
    const done: { cartId: string; chargeId: string; attemptId: string; amountCents: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const { cartId, token } = await stack.cart(`usr_lost_${i}`);
      const answer = await stack.api('POST', '/api/checkout/complete', {
        token,
        body: { cartId, paymentToken: 'pm_card_visa' },
        headers: { 'idempotency-key': `lost-${i}` },
      });
      assert.equal(answer.status, 201, answer.text);
      const row = (
        await stack.db.query('SELECT charge_id, attempt_id, amount_cents FROM orders WHERE cart_id = $1', [
          cartId,
        ])
      ).rows[0];
      done.push({
        cartId,
        chargeId: row.charge_id,
        attemptId: row.attempt_id,
        amountCents: row.amount_cents,
      });
    }
    await eventually(() => stack.settled({ userIds: done.map((_, i) => `usr_lost_${i}`) }), 20_000, 'sold');
    assert.equal((await reconcile()).code, 0, 'clean before any commit is lost');

    // Two checkouts' last commits lost, as a failover leaves them: no order, no attempt, no key, the cart
    // open again; the gateway keeps their charges, the inventory the stock it sold.
    const lost = done.slice(0, 2);
    for (const { cartId, attemptId } of lost) {
      await stack.db.query('DELETE FROM orders WHERE attempt_id = $1', [attemptId]);
      await stack.db.query('DELETE FROM idempotency_keys WHERE attempt_id = $1', [attemptId]);
      await stack.db.query('DELETE FROM checkout_attempts WHERE id = $1', [attemptId]);
      await stack.db.query(`UPDATE carts SET status = 'open', checked_out_at = NULL WHERE id = $1`, [cartId]);
    }
    // A third lost only its last commit: its attempt stands, open again, past its lease. Its order is
    // the attempt's to make (recovery's, or the client's retry with its key), never the repair's refund.
    const reopened = done[2] as (typeof done)[number];
    await stack.db.query('DELETE FROM orders WHERE attempt_id = $1', [reopened.attemptId]);
    await stack.db.query(
      'UPDATE idempotency_keys SET response_status = NULL, response_body = NULL WHERE attempt_id = $1',
      [reopened.attemptId],
    );
    await stack.db.query(
      `UPDATE checkout_attempts SET phase = 'started', charge_id = NULL, stock_committed = false,
         locked_until = now() - interval '1 second' WHERE id = $1`,
      [reopened.attemptId],
    );
    await stack.db.query(`UPDATE carts SET status = 'open', checked_out_at = NULL WHERE id = $1`, [
      reopened.cartId,
    ]);
    // Separately, reservations made for attempts whose rows were lost before any charge.
    const stray = [randomUUID(), randomUUID()];
    const mugsBefore = await stack.stock('sku_mug');
    await reserve(stray[0] as string, 1);
    await reserve(stray[1] as string, 2);
    const held = await stack.stock('sku_mug');
    assert.equal(held.reserved, mugsBefore.reserved + 3);

    // The inventory lists what it holds, page by page.
    const firstPage = await reservations('status=reserved&limit=1');
    assert.equal(firstPage.reservations.length, 1);
    assert.ok(firstPage.next);
    const listed = [
      ...firstPage.reservations,
      ...(await reservations(`status=reserved&after=${firstPage.next}`)).reservations,
    ];
    assert.deepEqual(listed.map((r) => r.reservationId).sort(), [...stray].sort());
    assert.deepEqual(listed.find((r) => r.reservationId === stray[1])?.items, [
      { sku: 'sku_mug', quantity: 2 },
    ]);

    const report = await reconcile();
    assert.equal(report.code, 1, report.stdout);
    for (const { chargeId } of [...lost, reopened]) {
      assert.match(report.stdout, new RegExp(`BREACH charge_without_order: charge ${chargeId}`));
    }
    assert.match(report.stdout, new RegExp(`BREACH attempt_unsettled: attempt ${reopened.attemptId}`));

    // Dry run: the plan, one line per action, and nothing changed.
    const plan = await reconcile('--repair');
    assert.equal(plan.code, 1, plan.stdout);
    const planned = plan.lines.filter((l) => l.startsWith('PLAN '));
    assert.equal(planned.length, 4, plan.stdout);
    for (const { chargeId, attemptId, amountCents } of lost) {
      assert.ok(
        planned.includes(
          `PLAN refund charge ${chargeId} (attempt ${attemptId}, ${amountCents}): its attempt is gone: no order can be made of it`,
        ),
        plan.stdout,
      );
    }
    for (const id of stray)
      assert.ok(planned.includes(`PLAN release reservation ${id}: no attempt holds it`));
    assert.ok(
      plan.lines.includes(
        `LEFT charge_without_order: charge ${reopened.chargeId} (attempt ${reopened.attemptId}, ${reopened.amountCents}) has no order and is not refunded (its attempt is open: the recovery worker makes its order)`,
      ),
      plan.stdout,
    );
    assert.match(plan.stdout, /repair: 4 action\(s\) planned, nothing changed; --apply to act/);
    for (const { chargeId } of lost) assert.deepEqual(await refundsOf(chargeId), []);
    assert.deepEqual(await stack.stock('sku_mug'), held);

    // Acted on: each action printed and logged, one line each; the books balance.
    const applied = await reconcile('--repair', '--apply');
    // What it leaves (the open attempt and its charge) keeps the exit at 1.
    assert.equal(applied.code, 1, `${applied.stdout}\n${applied.stderr}`);
    assert.deepEqual(
      applied.lines.filter((l) => l.startsWith('DONE ')).sort(),
      planned.map((l) => l.replace(/^PLAN /, 'DONE ')).sort(),
    );
    assert.match(applied.stdout, /repair: 4 done, 0 failed; 2 breach\(es\) left/);
    assert.match(applied.stdout, new RegExp(`LEFT attempt_unsettled: attempt ${reopened.attemptId}`));
    assert.deepEqual(await refundsOf(reopened.chargeId), [], 'the open attempt keeps its charge');
    const logged = applied.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'reconcile_repaired');
    assert.deepEqual(
      logged.map((l) => l.chargeId ?? l.reservationId).sort(),
      [...lost.map((l) => l.chargeId), ...stray].sort(),
    );
    for (const { chargeId } of lost) assert.equal((await refundsOf(chargeId)).length, 1);
    const released = await stack.stock('sku_mug');
    assert.equal(released.reserved, mugsBefore.reserved);
    assert.equal(released.available, held.available + 3);
    assert.equal(released.sold, held.sold, 'no stock sold, none given back twice');
    assert.deepEqual((await reservations('status=reserved')).reservations, []);
    const tombstones = (await reservations('status=released')).reservations.map((r) => r.reservationId);
    for (const id of stray) assert.ok(tombstones.includes(id));

    // The client's retry with its key takes the open attempt over and makes its order of the same charge;
    // its stock, sold before the commit was lost, is committed again at the inventory: a no-op.
    const resumed = await stack.api('POST', '/api/checkout/complete', {
      token: await stack.token('usr_lost_2'),
      body: { cartId: reopened.cartId, paymentToken: 'pm_card_visa' },
      headers: { 'idempotency-key': 'lost-2' },
    });
    assert.equal(resumed.status, 201, resumed.text);
    assert.equal(resumed.body.transactionId, reopened.chargeId);
    await eventually(() => stack.settled({ cartId: reopened.cartId }), 20_000, 'its stock committed');
    assert.equal((await stack.stock('sku_mug')).sold, held.sold, 'no stock committed twice');

    // The orders that were not lost stand, their charges untouched.
    for (const { chargeId } of done.slice(2)) assert.deepEqual(await refundsOf(chargeId), []);
    const clean = await reconcile();
    assert.equal(clean.code, 0, clean.stdout);
    assert.match(clean.stdout, /clean/);

    // Again: nothing to repair, nothing done, nothing refunded twice.
    const again = await reconcile('--repair', '--apply');
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.lines.filter((l) => /^(DONE|FAILED|PLAN) /.test(l)).length, 0, again.stdout);
    assert.match(again.stdout, /repair: 0 done, 0 failed; clean/);
    assert.doesNotMatch(again.stderr, /reconcile_repaired/);
    for (const { chargeId } of lost) assert.equal((await refundsOf(chargeId)).length, 1);
    const dry = await reconcile('--repair');
    assert.equal(dry.code, 0, dry.stdout);
    assert.match(dry.stdout, /repair: nothing to repair/);

    // The customer whose commit was lost checks out again: a new attempt, a new charge, one order.
    const retried = lost[0] as (typeof lost)[number];
    const retry = await stack.api('POST', '/api/checkout/complete', {
      token: await stack.token('usr_lost_0'),
      body: { cartId: retried.cartId, paymentToken: 'pm_card_visa' },
      headers: { 'idempotency-key': 'lost-0' },
    });
    assert.equal(retry.status, 201, retry.text);
    assert.notEqual(retry.body.transactionId, retried.chargeId);
  });

  test('--apply without --repair is bad usage: exit 2, nothing done', async () => {
    const run = await reconcile('--apply');
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--apply acts on the plan of --repair/);
    assert.equal(run.stdout, '');
  });
});
