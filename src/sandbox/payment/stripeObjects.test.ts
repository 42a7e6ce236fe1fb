import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import qs from 'qs';
import type Stripe from 'stripe';
import { type RunningPaymentSandbox, startPaymentSandbox } from '../../../test/support/paymentSandbox.ts';
import { injectedStripeError } from './app.ts';
import { paidIntentRow } from './stripeObjects.fixture.ts';
import {
  errorObject,
  listObject,
  paymentIntentObject,
  type RefundRow,
  refundObject,
} from './stripeObjects.ts';

const intentRow = paidIntentRow;
const refundRow: RefundRow = {
  id: 're_0',
  payment_intent_id: 'pi_0',
  charge_id: 'ch_0',
  amount: 2800,
  currency: 'usd',
  metadata: {},
  created_at: new Date(),
};

// The conformance, checked by `tsc --noEmit` (npm run typecheck): each answer of the sandbox is assigned
// to the official SDK's own type. A member Stripe always sends and the sandbox drops, or sends with
// another type, fails the type check; the runtime tests below check that the HTTP answers are these.
const asIntent: Stripe.PaymentIntent = paymentIntentObject(intentRow);
const asDeclined: Stripe.PaymentIntent = paymentIntentObject({
  ...intentRow,
  status: 'requires_payment_method',
  last_payment_error: {
    type: 'card_error',
    code: 'card_declined',
    decline_code: 'generic_decline',
    charge: 'ch_0',
    message: 'Your card was declined.',
  },
});
const asRefund: Stripe.Refund = refundObject(refundRow);
const asIntents: Stripe.ApiList<Stripe.PaymentIntent> = listObject('/v1/payment_intents', [asIntent], false);
const asRefunds: Stripe.ApiList<Stripe.Refund> = listObject('/v1/refunds', [asRefund], false);
const asCardError: Stripe.StripeRawError = errorObject({
  type: 'card_error',
  code: 'card_declined',
  decline_code: 'generic_decline',
  charge: 'ch_0',
  message: 'Your card was declined.',
  payment_intent: paymentIntentObject(intentRow),
}).error;
const asInjected: Stripe.StripeRawError[] = [429, 500].map(
  (status) => (injectedStripeError(status) as ReturnType<typeof errorObject>).error,
);

describe("the payment sandbox's answers are Stripe's objects, member for member [PostgreSQL]", () => {
  let sandbox: RunningPaymentSandbox;
  before(async () => {
    sandbox = await startPaymentSandbox();
  });
  after(() => sandbox?.close());

  const call = async (method: 'GET' | 'POST', path: string, params?: object, key = sandbox.apiKey) => {
    const query = method === 'GET' && params ? `?${qs.stringify(params)}` : '';
    const response = await fetch(`${sandbox.url}${path}${query}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(method === 'POST' ? { body: qs.stringify(params ?? {}) } : {}),
    });
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const keys = (value: object) => Object.keys(value).sort();
  const create = (payment_method: string) =>
    call('POST', '/v1/payment_intents', {
      amount: 2800,
      currency: 'usd',
      payment_method,
      confirm: true,
      metadata: { attemptId: randomUUID() },
    });
  /** An error answer: Stripe's `{ error }` with a type the SDK knows, and nothing beside it. */
  const assertStripeError = (answer: { status: number; body: Record<string, unknown> }, type: string) => {
    assert.deepEqual(keys(answer.body), ['error']);
    const error = answer.body.error as Stripe.StripeRawError;
    assert.equal(error.type, type);
    assert.equal(typeof error.message, 'string');
    return error;
  };

  test('a PaymentIntent, a refund and their lists carry every member of the typed objects, and only those', async () => {
    const paid = await create('pm_card_visa');
    assert.equal(paid.status, 200);
    assert.deepEqual(keys(paid.body), keys(asIntent));
    assert.equal(paid.body.object, 'payment_intent');
    assert.equal(paid.body.livemode, false);
    const refund = await call('POST', '/v1/refunds', { payment_intent: paid.body.id });
    assert.equal(refund.status, 200);
    assert.deepEqual(keys(refund.body), keys(asRefund));
    for (const [path, typed] of [
      ['/v1/payment_intents', asIntents],
      ['/v1/refunds', asRefunds],
    ] as const) {
      const list = await call('GET', path, { limit: 1 });
      assert.deepEqual(keys(list.body), keys(typed));
      const first = (list.body.data as object[])[0];
      assert.ok(first, path);
      assert.deepEqual(keys(first), keys(typed.data[0] ?? {}));
    }
    const retrieved = await call('GET', `/v1/payment_intents/${paid.body.id}`);
    assert.deepEqual(retrieved.body, paid.body);
  });

  test('a decline: 402 card_error holding the PaymentIntent, declined, as the typed objects', async () => {
    const declined = await create('pm_card_chargeDeclined');
    assert.equal(declined.status, 402);
    const error = assertStripeError(declined, 'card_error');
    assert.deepEqual(keys(error), keys(asCardError));
    assert.deepEqual(keys(error.payment_intent ?? {}), keys(asDeclined));
    assert.deepEqual(
      keys(error.payment_intent?.last_payment_error ?? {}),
      keys(asDeclined.last_payment_error ?? {}),
    );
  });

  test("every refusal is Stripe's error object, with Stripe's status", async () => {
    const unknown = await create('pm_card_nope');
    assert.equal(unknown.status, 400);
    assert.equal(assertStripeError(unknown, 'invalid_request_error').param, 'payment_method');
    const invalid = await call('POST', '/v1/payment_intents', {
      amount: 'x',
      currency: 'usd',
      payment_method: 'pm_card_visa',
    });
    assert.equal(invalid.status, 400);
    assert.equal(assertStripeError(invalid, 'invalid_request_error').param, 'amount');
    const missing = await call('GET', '/v1/payment_intents/pi_none');
    assert.equal(missing.status, 404);
    assertStripeError(missing, 'invalid_request_error');
    const unauthenticated = await call('GET', '/v1/payment_intents', {}, 'sk_test_wrong');
    assert.equal(unauthenticated.status, 401);
    assertStripeError(unauthenticated, 'authentication_error');
    for (const injected of asInjected)
      assert.ok(injected.type === 'rate_limit_error' || injected.type === 'api_error');
  });
});
