import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// Issue "A real payment provider": webhooks as a second source of truth. Recovery waits a minute here,
// so that what settles an attempt within the test is the webhook, never recovery's next round.
const LEASE_MS = 60_000;

describe("the payment provider's webhooks: signed, idempotent, settling at once", () => {
  let stack: TestStack;
  let secret: string;
  let users = 0;

  before(async () => {
    stack = await startTestStack({
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
      CHECKOUT_ATTEMPT_LEASE_MS: String(LEASE_MS),
      RECOVERY_INTERVAL_MS: '600000',
      PAYMENT_TIMEOUT_MS: '1000',
    });
    secret = (
      JSON.parse(await readFile(join(stack.dataDir, 'secrets.json'), 'utf8')) as { webhookSecret: string }
    ).webhookSecret;
  });
  after(() => stack?.stop());

  const checkout = (cartId: string, token: string, key: string, paymentToken = 'pm_card_visa') =>
    stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken },
      headers: { 'idempotency-key': key },
    });
  const attemptOf = async (cartId: string) =>
    (
      await stack.db.query<{ id: string; phase: string }>(
        'SELECT id, phase FROM checkout_attempts WHERE cart_id = $1 ORDER BY created_at DESC LIMIT 1',
        [cartId],
      )
    ).rows[0];
  const ordersOf = async (cartId: string) =>
    (await stack.db.query('SELECT id, charge_id FROM orders WHERE cart_id = $1', [cartId])).rows;
  /** The PaymentIntent the sandbox made for an attempt, read through its API as the adapter reads it. */
  const intentOf = async (attemptId: string): Promise<Stripe.PaymentIntent> => {
    const list = await fetch(`${stack.info.paymentUrl}/v1/payment_intents?limit=100`, {
      headers: { authorization: `Bearer ${await sandboxKey()}` },
    });
    const intents = ((await list.json()) as Stripe.ApiList<Stripe.PaymentIntent>).data;
    const intent = intents.find((i) => i.metadata.attemptId === attemptId);
    assert.ok(intent, `a PaymentIntent of attempt ${attemptId}`);
    return intent;
  };
  const sandboxKey = async () =>
    (JSON.parse(await readFile(join(stack.dataDir, 'secrets.json'), 'utf8')) as { paymentApiKey: string })
      .paymentApiKey;
  /** POSTs an event to the checkout's endpoint, signed as given (the stack's secret, now, by default). */
  const deliver = (
    event: unknown,
    signing: { secret?: string; timestamp?: number; header?: string } = {},
  ) => {
    const payload = JSON.stringify(event);
    const header =
      signing.header ??
      Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: signing.secret ?? secret,
        ...(signing.timestamp ? { timestamp: signing.timestamp } : {}),
      });
    return stack.api('POST', '/webhooks/stripe', {
      token: null,
      raw: payload,
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header },
    });
  };
  const eventOf = (type: string, object: object) => ({
    id: `evt_${randomUUID().replaceAll('-', '')}`,
    object: 'event',
    api_version: Stripe.API_VERSION,
    created: Math.floor(Date.now() / 1000),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  });
  const handledLines = async (eventId: string) =>
    (await stack.log('checkout')).filter((l) => l.msg === 'webhook_event_handled' && l.eventId === eventId);

  test('the answer is lost but the webhook arrives: the checkout answers 201 at once, one charge, one order', async () => {
    const { cartId, token } = await stack.cart(`usr_webhook_first_${users++}`);
    await stack.fault('payment', { mode: 'charge-then-hang' });
    let answer: Awaited<ReturnType<typeof checkout>>;
    try {
      answer = await checkout(cartId, token, 'webhook-first');
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    assert.equal(answer.status, 201, answer.text);
    const orders = await ordersOf(cartId);
    assert.equal(orders.length, 1);
    assert.equal(answer.body.orderId, orders[0]?.id);
    const replay = await checkout(cartId, token, 'webhook-first');
    assert.equal(replay.status, 201);
    assert.equal(replay.body.orderId, orders[0]?.id);
    const reconciled = await stack.reconcile();
    assert.equal(reconciled.code, 0, reconciled.stdout);
  });

  test('a bad, stale or missing signature is 400 and changes nothing; the signed event settles, once', async () => {
    const { cartId, token } = await stack.cart(`usr_webhook_signed_${users++}`);
    // An attempt whose outcome is unknown, whose own webhook is held back: open, paid, no order.
    await stack.fault('payment', { mode: 'charge-then-hang', webhooks: 'hold' });
    try {
      assert.equal((await checkout(cartId, token, 'webhook-signed')).status, 503);
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    const attempt = await attemptOf(cartId);
    assert.equal(attempt?.phase, 'started');
    const intent = await intentOf(String(attempt?.id));
    // The event names a payment the gateway never made, of another amount: only a trigger. The gateway
    // is asked, and the order is made with the payment it holds.
    const event = eventOf('payment_intent.succeeded', { ...intent, id: 'pi_never_issued', amount: 1 });

    for (const signing of [
      { secret: 'whsec_not_the_endpoint_secret' },
      { timestamp: Math.floor(Date.now() / 1000) - 600 },
      { header: '' },
      { header: 't=1,v1=deadbeef' },
    ]) {
      const refused = await deliver(event, signing);
      assert.equal(refused.status, 400, JSON.stringify(signing));
      assert.equal(refused.body.error, 'WEBHOOK_NOT_VERIFIED');
    }
    const tampered = await deliver(event, {
      header: Stripe.webhooks.generateTestHeaderString({
        payload: JSON.stringify({ ...event, id: 'evt_x' }),
        secret,
      }),
    });
    assert.equal(tampered.status, 400);
    assert.equal((await ordersOf(cartId)).length, 0, 'nothing changed');
    assert.equal((await attemptOf(cartId))?.phase, 'started');

    const accepted = await deliver(event);
    assert.equal(accepted.status, 200, accepted.text);
    assert.deepEqual(accepted.body, { received: true });
    const orders = await ordersOf(cartId);
    assert.equal(orders.length, 1, 'settled at once, recovery a minute away');
    assert.equal(orders[0]?.charge_id, intent.id, "the gateway's payment, not the event's word");
    assert.equal((await attemptOf(cartId))?.phase, 'completed');
    const again = await deliver(event);
    assert.equal(again.status, 200);
    assert.equal((await ordersOf(cartId)).length, 1);
    const lines = await handledLines(event.id);
    assert.deepEqual(
      lines.map((l) => l.outcome),
      ['settled'],
      'the second delivery is a duplicate: no line, nothing done',
    );
    const retry = await checkout(cartId, token, 'webhook-signed');
    assert.equal(retry.status, 201);
    assert.equal(retry.body.orderId, orders[0]?.id);
    await stack.fault('payment', { mode: 'none', webhooks: 'deliver' });
    await eventually(() => stack.settled({ cartId }), 20_000, 'stock sold');
    const reconciled = await stack.reconcile();
    assert.equal(reconciled.code, 0, reconciled.stdout);
  });

  test('a declined payment whose answer is lost: its webhook gives the stock back at once', async () => {
    const { cartId, token } = await stack.cart(`usr_webhook_declined_${users++}`, [
      { sku: 'sku_mug', quantity: 1 },
    ]);
    const before = await stack.stock('sku_mug');
    await stack.fault('payment', { mode: 'charge-then-hang' });
    try {
      assert.equal((await checkout(cartId, token, 'webhook-declined', 'pm_card_chargeDeclined')).status, 503);
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    await eventually(async () => (await attemptOf(cartId))?.phase === 'failed', 10_000, 'the attempt failed');
    assert.deepEqual(await stack.stock('sku_mug'), before, 'nothing held');
    const retry = await checkout(cartId, token, 'webhook-declined', 'pm_card_chargeDeclined');
    assert.equal(retry.status, 402, retry.text);
    assert.equal((await ordersOf(cartId)).length, 0);
  });

  test('a notice for an attempt whose request is still charging is left to that request', async () => {
    const { cartId, token } = await stack.cart(`usr_webhook_inflight_${users++}`);
    await stack.fault('payment', { mode: 'latency', latencyMs: 600, webhooks: 'hold' });
    try {
      const answer = checkout(cartId, token, 'webhook-inflight');
      await eventually(async () => (await attemptOf(cartId)) !== undefined, 5000, 'the attempt');
      const attempt = await attemptOf(cartId);
      // Told it failed while its charge is still on its way: nothing is given back under the request.
      const told = await deliver(
        eventOf('payment_intent.payment_failed', {
          id: 'pi_made_up',
          object: 'payment_intent',
          status: 'requires_payment_method',
          metadata: { attemptId: attempt?.id },
        }),
      );
      assert.equal(told.status, 200);
      assert.equal((await attemptOf(cartId))?.phase, 'started', 'left to the request');
      assert.equal((await answer).status, 201);
    } finally {
      await stack.fault('payment', { mode: 'none', webhooks: 'deliver' });
    }
    assert.equal((await ordersOf(cartId)).length, 1);
    await eventually(() => stack.settled({ cartId }), 20_000, 'stock sold');
    const reconciled = await stack.reconcile();
    assert.equal(reconciled.code, 0, reconciled.stdout);
  });

  test('events of no checkout, of types not handled, or of a completed attempt: 200, nothing changed', async () => {
    const stranger = eventOf('payment_intent.succeeded', {
      id: 'pi_elsewhere',
      object: 'payment_intent',
      status: 'succeeded',
      metadata: { attemptId: randomUUID() },
    });
    const untagged = eventOf('payment_intent.payment_failed', { id: 'pi_untagged', metadata: {} });
    const other = eventOf('customer.created', { id: 'cus_1', object: 'customer' });
    const refund = eventOf('charge.refunded', { id: 'ch_1', object: 'charge', payment_intent: 'pi_none' });
    const shapeless = { ...eventOf('payment_intent.succeeded', {}), data: null };
    const nulRefund = eventOf('charge.refunded', {
      id: 'ch_2',
      object: 'charge',
      payment_intent: 'pi_\u0000',
    });
    const numbered = eventOf('payment_intent.succeeded', {
      id: 'pi_n',
      status: 'succeeded',
      metadata: { attemptId: 7 },
    });
    const oddIds = [
      { ...stranger, id: `evt_${'x'.repeat(12_000)}` },
      { ...stranger, id: 'evt_nul\u0000' },
      { ...stranger, id: 42 },
      null,
      [],
    ];
    for (const event of [stranger, untagged, other, refund, nulRefund, shapeless, numbered, ...oddIds]) {
      const answer = await deliver(event);
      assert.equal(answer.status, 200, `${JSON.stringify(event)?.slice(0, 80)}: ${answer.text}`);
    }
    const outcomes = await Promise.all(
      [stranger, untagged, other, shapeless, numbered].map(
        async (e) => (await handledLines(e.id))[0]?.outcome,
      ),
    );
    assert.deepEqual(outcomes, ['ignored', 'ignored', 'ignored', 'ignored', 'ignored']);
    const errors = (await stack.log('checkout')).filter((l) => Number(l.statusCode) === 500);
    assert.deepEqual(errors, [], 'no event, however odd, makes a 500');
    const metrics = await (
      await fetch(`${stack.info.instances[0]?.managementUrl ?? stack.info.checkoutUrl}/metrics`)
    ).text();
    assert.match(
      metrics,
      /checkout_webhook_events_total\{[^}]*type="other"[^}]*outcome="ignored"[^}]*\} [1-9]/,
    );
    assert.match(
      metrics,
      /checkout_webhook_events_total\{[^}]*type="payment_intent.succeeded"[^}]*outcome="duplicate"[^}]*\} [1-9]/,
    );
  });
});
