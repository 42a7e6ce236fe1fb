import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem } from './support/problems.ts';
import { childrenOf, portOpen } from './support/processes.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// The database hangs, then goes away altogether; the service says so honestly (503) and fast, and
// recovers by itself when the database is back, without a restart.
describe('PostgreSQL hung or stopped mid-run', () => {
  let stack: TestStack;
  let users = 0;
  const checkout = async (cart?: { cartId: string; token: string }) => {
    const { cartId, token } = cart ?? (await stack.cart(`usr_db_${users++}`));
    return stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'pm_card_visa' },
    });
  };
  const health = () => stack.api('GET', '/health', { token: null });
  /**
   * Readiness answers from a database check at most HEALTH_CHECK_INTERVAL_MS (1 s) old, so a database
   * that stops shows there within that and the time box: the first 503, every answer fast until then.
   */
  const firstUnhealthy = async () => {
    const deadline = Date.now() + 2000;
    for (;;) {
      const report = await health();
      assert.ok(report.elapsedMs < 500, `health answered in ${report.elapsedMs} ms`);
      if (report.status !== 200 || Date.now() > deadline) return report;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  before(async () => {
    stack = await startTestStack({ DB_STATEMENT_TIMEOUT_MS: '1000', DB_CONNECT_TIMEOUT_MS: '1000' });
  });
  after(() => stack?.stop());

  test('hung (SIGSTOP): health 503 in under 500 ms, checkout 503; both recover on SIGCONT', async () => {
    const postmaster = stack.info.pids.postgres as number;
    const cart = await stack.cart('usr_db_hung');
    assert.equal((await health()).status, 200);
    const frozen = [postmaster, ...childrenOf(postmaster)];
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    try {
      const report = await firstUnhealthy();
      assert.equal(report.status, 503);
      assert.equal(report.body.status, 'unhealthy');
      assert.equal(report.body.db, 'unreachable');
      assert.match(String(report.body.error), /timeout/i);
      assert.ok(report.elapsedMs < 500, `health answered in ${report.elapsedMs} ms`);
      const live = await stack.api('GET', '/health/live', { token: null });
      assert.equal(live.status, 200, 'the process itself is alive');
      assertProblem(await checkout(cart), 503, 'SERVICE_TEMPORARILY_UNAVAILABLE');
      // The scrape reads the unsettled attempts from the database, time-boxed: a hung database costs it nothing.
      const scrapes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const scrape = await stack.api('GET', '/metrics', { token: null });
        assert.equal(scrape.status, 200);
        assert.match(scrape.text, /^checkout_attempts_unsettled\{service="checkout"\} \d+$/m);
        scrapes.push(scrape.elapsedMs);
      }
      const median = scrapes.sort((a, b) => a - b)[2] ?? Number.POSITIVE_INFINITY;
      assert.ok(median < 100, `/metrics answered in ${scrapes.map(Math.round).join(', ')} ms`);
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    }
    await eventually(async () => (await health()).status === 200, 15_000, 'health back to 200');
    await eventually(async () => (await checkout()).status === 201, 15_000, 'checkout back to 201');
  });

  test('stopped: health 503 "unreachable" in under 500 ms, checkout 503; back when PostgreSQL returns', async () => {
    const checkoutPid = stack.info.pids.checkout;
    const postmaster = stack.info.pids.postgres as number;
    const port = Number(new URL(stack.info.databaseUrl).port);
    // Hold the supervisor's PostgreSQL wrapper so that it does not restart the server at once.
    const [wrapper] = childrenOf(stack.info.pids.supervisor, 'postgresProcess');
    assert.ok(wrapper, 'the PostgreSQL wrapper process');
    process.kill(wrapper, 'SIGSTOP');
    try {
      process.kill(postmaster, 'SIGINT');
      await eventually(async () => !(await portOpen(port)), 15_000, 'PostgreSQL down');
      const report = await firstUnhealthy();
      assert.equal(report.status, 503);
      assert.equal(report.body.db, 'unreachable');
      assert.ok(report.elapsedMs < 500, `health answered in ${report.elapsedMs} ms`);
      assertProblem(
        await stack.api('POST', '/api/carts', { token: await stack.token('usr_db_x') }),
        503,
        'SERVICE_TEMPORARILY_UNAVAILABLE',
      );
    } finally {
      process.kill(wrapper, 'SIGCONT');
    }
    await eventually(async () => (await health()).status === 200, 30_000, 'health back to 200');
    await eventually(async () => (await checkout()).status === 201, 15_000, 'checkout back to 201');
    const info = JSON.parse(
      await (await import('node:fs/promises')).readFile(`${stack.dataDir}/stack.json`, 'utf8'),
    ) as typeof stack.info;
    assert.equal(info.pids.checkout, checkoutPid, 'the checkout service was not restarted');
    assert.notEqual(info.pids.postgres, postmaster, 'PostgreSQL was restarted by the supervisor');
  });
});
