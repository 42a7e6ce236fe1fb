import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestStack, type TestStack } from './support/stack.ts';

// Section 6: on SIGTERM readiness goes 503 first, in-flight requests finish, then the pool closes.
describe('graceful shutdown under load', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startTestStack({ SHUTDOWN_DRAIN_DELAY_MS: '1000', CHECKOUT_RATE_LIMIT_PER_MINUTE: '1000' });
  });
  after(() => stack?.stop());

  test('SIGTERM: readiness 503 before the listener closes, no request in flight fails', async () => {
    const carts = [];
    for (let i = 0; i < 12; i++) carts.push(await stack.cart(`usr_drain_${i}`));
    // Slow payments keep checkouts in flight while the signal arrives.
    await stack.fault('payment', { mode: 'latency', latencyMs: 800 });

    const readiness: { at: number; status: number | 'refused' }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const response = await fetch(`${stack.info.checkoutUrl}/health/ready`, {
            signal: AbortSignal.timeout(1000),
          });
          readiness.push({ at: Date.now(), status: response.status });
        } catch {
          readiness.push({ at: Date.now(), status: 'refused' });
        }
        await sleep(50);
      }
    })();

    const inFlight = carts.map(({ cartId, token }) =>
      stack.api('POST', '/api/checkout/complete', { token, body: { cartId, paymentToken: 'pm_card_visa' } }),
    );
    await sleep(300);
    const signalledAt = Date.now();
    process.kill(stack.info.pids.checkout as number, 'SIGTERM');
    const responses = await Promise.all(inFlight);
    await sleep(1500);
    polling = false;
    await poller;
    await stack.fault('payment', { mode: 'none' });

    assert.deepEqual(
      responses.map((r) => r.status),
      responses.map(() => 201),
      'every request in flight at SIGTERM completed',
    );
    const afterSignal = readiness.filter((r) => r.at >= signalledAt);
    const firstUnready = afterSignal.findIndex((r) => r.status === 503);
    const firstRefused = afterSignal.findIndex((r) => r.status === 'refused');
    assert.ok(firstUnready >= 0, `readiness went 503: ${JSON.stringify(afterSignal.map((r) => r.status))}`);
    assert.ok(
      firstRefused === -1 || firstUnready < firstRefused,
      'readiness went 503 before the listener closed',
    );
    const shutdown = (await stack.log('checkout')).filter((l) => l.msg === 'shutdown_complete');
    assert.equal(shutdown.at(-1)?.exitCode, 0);
  });
});
