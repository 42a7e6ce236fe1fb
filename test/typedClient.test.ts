import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { renderApiTypes } from '../examples/typed-client/apiTypes.ts';
import { completeCheckout } from '../examples/typed-client/checkoutClient.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// The example client, generated from the document and run against the real stack as an integrator would.
describe('the typed client (openapi-typescript + openapi-fetch)', () => {
  let stack: TestStack;
  const client = async (
    userId: string,
    extra: { onRetry?: Parameters<typeof completeCheckout>[0]['onRetry'] } = {},
  ) => ({
    baseUrl: stack.info.checkoutUrl,
    token: await stack.token(userId),
    ...extra,
  });

  before(async () => {
    // One failure opens the payment breaker; it lets a probe through two seconds later.
    stack = await startTestStack({
      PAYMENT_TIMEOUT_MS: '5000',
      PAYMENT_BREAKER_THRESHOLD: '1',
      PAYMENT_BREAKER_HALF_OPEN_MS: '2000',
    });
  });
  after(() => stack?.stop());

  test('its types are the ones the live document generates (npm run api:types when not)', async () => {
    const document = await (await fetch(`${stack.info.checkoutUrl}/openapi.json`)).json();
    const committed = await readFile(
      new URL('../examples/typed-client/schema.d.ts', import.meta.url),
      'utf8',
    );
    assert.equal(committed, await renderApiTypes(document), 'stale: run npm run api:types');
  });

  test('completes a checkout with an Idempotency-Key', async () => {
    const { cartId } = await stack.cart('usr_client_ok');
    const outcome = await completeCheckout(await client('usr_client_ok'), {
      cartId,
      paymentToken: 'pm_card_visa',
    });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(outcome.order.status, 'CONFIRMED');
    assert.equal(outcome.attempts, 1);
  });

  test('a 503 is retried after its Retry-After, with the same key: one order', async () => {
    // The gateway fails once: the breaker opens, and a checkout is refused with the time until its probe.
    await stack.fault('payment', { mode: 'error' });
    const { cartId: tripping, token } = await stack.cart('usr_client_trip');
    const tripped = await stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId: tripping, paymentToken: 'pm_card_visa' },
    });
    assert.equal(tripped.status, 503);
    const { cartId } = await stack.cart('usr_client_503');
    const retries: { status: number; waitMs: number }[] = [];
    const options = await client('usr_client_503', {
      onRetry: (retry) => {
        retries.push(retry);
        void stack.fault('payment', { mode: 'none' });
      },
    });
    try {
      const outcome = await completeCheckout(options, { cartId, paymentToken: 'pm_card_visa' });
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.deepEqual(
        retries.map((r) => r.status),
        [503],
      );
      assert.ok(
        retries[0] && retries[0].waitMs >= 1000,
        `it waited the Retry-After: ${retries[0]?.waitMs} ms`,
      );
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    const orders = await stack.db.query('SELECT count(*)::int AS n FROM orders WHERE cart_id = $1', [cartId]);
    assert.equal(orders.rows[0].n, 1);
  });

  test('a 409 IDEMPOTENCY_KEY_IN_USE is retried until the first request ends; its answer is replayed', async () => {
    const { cartId, token } = await stack.cart('usr_client_409');
    const idempotencyKey = 'client-key-in-use';
    await stack.fault('payment', { mode: 'latency', latencyMs: 1500 });
    try {
      const first = stack.api('POST', '/api/checkout/complete', {
        token,
        body: { cartId, paymentToken: 'pm_card_visa' },
        headers: { 'idempotency-key': idempotencyKey },
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const retries: { status: number; error: string | undefined }[] = [];
      const outcome = await completeCheckout(
        await client('usr_client_409', { onRetry: (retry) => retries.push(retry) }),
        { cartId, paymentToken: 'pm_card_visa', idempotencyKey },
      );
      assert.equal((await first).status, 201);
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.equal(outcome.replayed, true, "the first request's answer, replayed");
      assert.equal(outcome.order.orderId, (await first).body.orderId);
      assert.ok(
        retries.some((r) => r.status === 409 && r.error === 'IDEMPOTENCY_KEY_IN_USE'),
        JSON.stringify(retries),
      );
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
  });

  test('stops on a 4xx that no retry can change: a declined card is answered once', async () => {
    const { cartId } = await stack.cart('usr_client_declined');
    const before = await stack.fault('payment', {});
    const outcome = await completeCheckout(
      await client('usr_client_declined', { onRetry: () => assert.fail('retried') }),
      {
        cartId,
        paymentToken: 'pm_card_chargeDeclined',
      },
    );
    assert.equal(outcome.ok, false);
    assert.ok(
      !outcome.ok && outcome.status === 402 && outcome.problem?.error === 'PAYMENT_DECLINED',
      JSON.stringify(outcome),
    );
    assert.equal(outcome.attempts, 1);
    assert.equal(
      (await stack.fault('payment', {})).requestsSeen,
      before.requestsSeen + 1,
      'one call to the gateway',
    );
  });
});
