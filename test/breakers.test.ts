import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertProblem } from './support/problems.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// Section 6: one breaker, timeout and bulkhead per dependency. The half-open delays are shortened so
// the test takes seconds; thresholds and timeouts keep the shape of the defaults (5 and 3 failures).
const PAYMENT_TIMEOUT_MS = 1000;
const INVENTORY_TIMEOUT_MS = 500;
const HALF_OPEN_MS = 2000;

describe('circuit breakers and timeouts on every external call', () => {
  let stack: TestStack;
  let users = 0;
  const checkout = async () => {
    const { cartId, token } = await stack.cart(`usr_breaker_${users++}`);
    return stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'pm_card_visa' },
    });
  };
  const breakerState = async (name: string) => {
    const health = await stack.api('GET', '/health', { token: null });
    return (health.body.circuitBreakers as Record<string, string>)[name];
  };

  before(async () => {
    stack = await startTestStack({
      PAYMENT_TIMEOUT_MS: String(PAYMENT_TIMEOUT_MS),
      PAYMENT_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
      INVENTORY_TIMEOUT_MS: String(INVENTORY_TIMEOUT_MS),
      INVENTORY_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '1000',
    });
  });
  after(() => stack?.stop());

  for (const [dependency, breaker, threshold] of [
    ['payment', 'paymentGateway', 5],
    ['inventory', 'inventoryService', 3],
  ] as const) {
    test(`${dependency}: opens after ${threshold} failures, fails fast without calling, closes after one good probe`, async () => {
      await stack.fault(dependency, { mode: 'error' });
      try {
        const seenBefore = (await stack.fault(dependency, {})).requestsSeen;
        for (let i = 0; i < threshold; i++) {
          assertProblem(await checkout(), 503, 'SERVICE_TEMPORARILY_UNAVAILABLE');
        }
        assert.equal((await stack.fault(dependency, {})).requestsSeen - seenBefore, threshold);
        assert.equal(await breakerState(breaker), 'OPEN');

        const fast = await checkout();
        assertProblem(fast, 503, 'SERVICE_TEMPORARILY_UNAVAILABLE');
        // Well under the dependency's own timeout: nothing was waited for.
        const timeoutMs = dependency === 'payment' ? PAYMENT_TIMEOUT_MS : INVENTORY_TIMEOUT_MS;
        assert.ok(
          fast.elapsedMs < timeoutMs / 2,
          `open breaker answers in milliseconds (took ${fast.elapsedMs} ms)`,
        );
        assert.ok(Number(fast.body.retryAfterSeconds) <= HALF_OPEN_MS / 1000);
        assert.equal(
          (await stack.fault(dependency, {})).requestsSeen - seenBefore,
          threshold,
          'not called while open',
        );
      } finally {
        await stack.fault(dependency, { mode: 'none' });
      }
      await sleep(HALF_OPEN_MS + 100);
      const probe = await checkout();
      assert.equal(probe.status, 201, probe.text);
      assert.equal(await breakerState(breaker), 'CLOSED');
    });

    test(`${dependency}: a hung dependency costs one timeout, then a 503`, async () => {
      const timeoutMs = dependency === 'payment' ? PAYMENT_TIMEOUT_MS : INVENTORY_TIMEOUT_MS;
      await stack.fault(dependency, { mode: 'hang' });
      try {
        const response = await checkout();
        assertProblem(response, 503, 'SERVICE_TEMPORARILY_UNAVAILABLE');
        assert.ok(response.elapsedMs >= timeoutMs - 50, `waited the timeout (${response.elapsedMs} ms)`);
        assert.ok(
          response.elapsedMs < timeoutMs + 1500,
          `no longer than the timeout (${response.elapsedMs} ms)`,
        );
      } finally {
        await stack.fault(dependency, { mode: 'none' });
      }
      await eventually(async () => (await checkout()).status === 201, 10_000, 'a checkout after the hang');
    });
  }
});
