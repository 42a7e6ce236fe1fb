import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import qs from 'qs';
import Stripe from 'stripe';
import { type RunningPaymentSandbox, startPaymentSandbox } from '../../../test/support/paymentSandbox.ts';
import { paidIntentRow } from './stripeObjects.fixture.ts';
import { chargeObject, eventObject, paymentIntentObject } from './stripeObjects.ts';

const SECRET = 'whsec_sandbox_webhook_test_secret';

const intentRow = paidIntentRow;
// The conformance, checked by `tsc --noEmit`: a Charge and each event the sandbox sends as the official
// SDK types them.
const asCharge: Stripe.Charge = chargeObject(intentRow, true);
const event = { id: 'evt_0', idempotency_key: null, delivered_at: null, created_at: new Date() };
const asRefunded: Stripe.ChargeRefundedEvent = eventObject({
  ...event,
  type: 'charge.refunded',
  object: asCharge,
});
const asSucceeded: Stripe.PaymentIntentSucceededEvent = eventObject({
  ...event,
  type: 'payment_intent.succeeded',
  object: paymentIntentObject(intentRow),
});
const asFailed: Stripe.PaymentIntentPaymentFailedEvent = eventObject({
  ...event,
  type: 'payment_intent.payment_failed',
  object: paymentIntentObject({ ...intentRow, status: 'requires_payment_method' }),
});
const keys = (value: object) => Object.keys(value).sort();

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook endpoint on 127.0.0.1 that keeps what it is sent and answers what it is told to. */
async function startEndpoint() {
  const deliveries: Delivery[] = [];
  const answers: number[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body });
      response.statusCode = answers.shift() ?? 200;
      response.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    deliveries,
    /** The next answers, in turn; 200 after them. */
    answerNext: (...statuses: number[]) => answers.push(...statuses),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(find: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await sleep(50);
  }
}

describe('the payment sandbox sends signed webhooks, as Stripe does [PostgreSQL]', () => {
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let sandbox: RunningPaymentSandbox;
  before(async () => {
    endpoint = await startEndpoint();
    sandbox = await startPaymentSandbox(undefined, { url: endpoint.url, secret: SECRET });
  });
  after(async () => {
    await sandbox?.close();
    await endpoint?.close();
  });

  const call = async (path: string, params: object, idempotencyKey?: string, traceparent?: string) => {
    const response = await fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${sandbox.apiKey}`,
        'content-type': 'application/x-www-form-urlencoded',
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        ...(traceparent ? { traceparent } : {}),
      },
      body: qs.stringify(params),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  const pay = (payment_method: string, attemptId = randomUUID()) =>
    call(
      '/v1/payment_intents',
      { amount: 2800, currency: 'usd', payment_method, confirm: true, metadata: { attemptId } },
      attemptId,
    );
  /** The events delivered whose object is `id`, each verified with the SDK as an endpoint verifies it. */
  const eventsOf = (id: string): Stripe.Event[] =>
    endpoint.deliveries
      .map((d) => Stripe.webhooks.constructEvent(d.body, String(d.headers['stripe-signature']), SECRET))
      .filter((e) => {
        const object = e.data.object as { id?: string; payment_intent?: string };
        return object.id === id || object.payment_intent === id;
      });

  test("a payment's event goes on in the payment's trace, spans exported or not", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const attemptId = randomUUID();
    const paid = await call(
      '/v1/payment_intents',
      {
        amount: 2800,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        metadata: { attemptId },
      },
      attemptId,
      `00-${traceId}-00f067aa0ba902b7-01`,
    );
    await until(() => eventsOf(String(paid.id))[0], 'the event');
    const delivery = endpoint.deliveries.find((d) => d.body.includes(String(paid.id)));
    assert.match(String(delivery?.headers.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  test('a payment, a decline and a refund each send their event, signed, with the object as the API answers it', async () => {
    const paid = await pay('pm_card_visa');
    const succeeded = await until(
      () => eventsOf(String(paid.id)).find((e) => e.type === 'payment_intent.succeeded'),
      'payment_intent.succeeded',
    );
    assert.deepEqual(keys(succeeded), keys(asSucceeded));
    assert.deepEqual(succeeded.data.object, paid);
    assert.equal(succeeded.request?.idempotency_key, (paid.metadata as { attemptId: string }).attemptId);

    const declined = (await pay('pm_card_chargeDeclined')).error as { payment_intent: { id: string } };
    const failed = await until(
      () => eventsOf(declined.payment_intent.id).find((e) => e.type === 'payment_intent.payment_failed'),
      'payment_intent.payment_failed',
    );
    assert.deepEqual(keys(failed), keys(asFailed));
    assert.deepEqual(failed.data.object, declined.payment_intent);

    await call('/v1/refunds', { payment_intent: paid.id }, `refund-${paid.id}`);
    const refunded = await until(
      () => eventsOf(String(paid.id)).find((e) => e.type === 'charge.refunded'),
      'charge.refunded',
    );
    assert.deepEqual(keys(refunded), keys(asRefunded));
    const charge = refunded.data.object as Stripe.Charge;
    assert.deepEqual(keys(charge), keys(asCharge));
    assert.equal(charge.refunded, true);
    assert.equal(charge.payment_intent, paid.id);
    assert.equal(charge.id, paid.latest_charge);
  });

  test('a signature made with another secret, or of another body, does not verify', async () => {
    const paid = await pay('pm_card_visa');
    await until(() => eventsOf(String(paid.id))[0], 'the event');
    const delivery = endpoint.deliveries.at(-1) as Delivery;
    const header = String(delivery.headers['stripe-signature']);
    assert.throws(
      () => Stripe.webhooks.constructEvent(delivery.body, header, 'whsec_another_secret_entirely'),
      Stripe.errors.StripeSignatureVerificationError,
    );
    assert.throws(
      () => Stripe.webhooks.constructEvent(delivery.body.replace('2800', '1'), header, SECRET),
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  test('an endpoint that fails gets the same event again, until it answers 2xx', async () => {
    endpoint.answerNext(500, 503);
    const paid = await pay('pm_card_visa');
    const tries = await until(() => {
      const seen = eventsOf(String(paid.id));
      return seen.length >= 3 ? seen : undefined;
    }, 'three tries');
    assert.equal(new Set(tries.map((e) => e.id)).size, 1, 'one event, sent three times');
    await sleep(1500);
    assert.equal(eventsOf(String(paid.id)).length, 3, 'nothing after the 2xx');
  });

  test('held webhooks go out when the switch lets them; a refused request sends none', async () => {
    const hold = await fetch(`${sandbox.url}/__sandbox/fault`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'none', webhooks: 'hold' }),
    });
    assert.equal(hold.status, 200);
    const paid = await pay('pm_card_visa');
    const refused = await pay('pm_card_nope');
    assert.equal((refused.error as { type: string }).type, 'invalid_request_error');
    await sleep(800);
    assert.equal(eventsOf(String(paid.id)).length, 0, 'held');
    await fetch(`${sandbox.url}/__sandbox/fault`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'none', webhooks: 'deliver' }),
    });
    await until(() => eventsOf(String(paid.id))[0], 'the held event, once let go');
    const count = endpoint.deliveries.length;
    await sleep(500);
    assert.equal(endpoint.deliveries.length, count, 'no event of the refused request');
  });
});
