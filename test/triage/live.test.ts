import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/processes.ts';
import { eventually, startTestStack, type TestStack } from '../support/stack.ts';
import { type Expected, isRight, type Row, row, table } from './evaluation.ts';

// Triage against a live stack, as the on-call engineer runs it: no arguments, the local stack's logs,
// every service's /metrics and the checkout service's /health.
describe('steadfast triage on a live stack', () => {
  let stack: TestStack;
  // These runs are rows of the evaluation table too (docs/triage.md): the CLI's whole run, timed.
  const rows: Row[] = [];
  const triage = async (scenario: string, expected: Expected) => {
    const started = performance.now();
    const run = await runCli(['triage', '--format', 'json'], { STEADFAST_DATA_DIR: stack.dataDir });
    const report = JSON.parse(run.stdout || '{}');
    rows.push(row(`live: ${scenario}`, expected, report, performance.now() - started));
    assert.ok(isRight(expected, report), `${scenario}: ${report.headline}`);
    return { code: run.code, report, stderr: run.stderr };
  };
  const checkout = async (userId: string) => {
    const { cartId, token } = await stack.cart(userId);
    return stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'pm_card_visa' },
    });
  };

  before(async () => {
    stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '1000' });
  });
  after(async () => {
    if (process.env.PRINT_TRIAGE_EVALUATION) process.stdout.write(table(rows));
    await stack?.stop();
  });

  test('healthy: exit 0, every source read', async () => {
    assert.equal((await checkout('usr_live_ok')).status, 201);
    const { code, report, stderr } = await triage('healthy', { category: 'healthy' });
    assert.equal(code, 0, stderr);
    assert.equal(report.status, 'healthy', report.headline);
    assert.equal(report.read.metrics.length, 3, 'checkout, inventory and payment scraped');
    assert.equal(report.read.health.length, 1);
    assert.ok(report.read.logFiles.some((f: string) => f.endsWith('checkout.log')));
    // PostgreSQL's own log is read as its lines, and initdb's account is no line of it: a healthy stack
    // passes over nothing but blank lines.
    assert.ok(report.read.logFiles.some((f: string) => f.endsWith('postgres.log')));
    const { total, reasons, samples } = report.read.passedOver;
    assert.equal(total - reasons.blank, 0, JSON.stringify(samples));
    assert.doesNotMatch(report.headline, /passed over/);
  });

  test('the payment gateway fails: triage names it, the open breaker as its symptom, the alert firing', async () => {
    await stack.fault('payment', { mode: 'error' });
    try {
      const started = Date.now();
      for (let i = 0; i < 8; i++) assert.equal((await checkout(`usr_live_${i}`)).status, 503);
      await eventually(
        async () => (await stack.log('checkout')).some((l) => l.reason === 'circuit_open'),
        5000,
        'breaker open',
      );
      const { code, report } = await triage('payment-5xx', {
        category: 'dependency_failure',
        cause: { kind: 'dependency', subject: 'paymentGateway' },
      });
      assert.equal(code, 1);
      assert.equal(report.cause.category, 'dependency_failure', report.headline);
      assert.equal(report.cause.subject, 'paymentGateway');
      assert.ok(Math.abs(Date.parse(report.when.firstFailure) - started) < 5000, report.when.firstFailure);
      assert.ok(
        report.symptoms.some(
          (s: { kind: string; subject: string }) =>
            s.kind === 'breaker_open' && s.subject === 'paymentGateway',
        ),
      );
      assert.deepEqual(
        report.advice.alerts.find((a: { name: string }) => a.name === 'CircuitBreakerOpen'),
        { name: 'CircuitBreakerOpen', state: 'firing' },
        'the breaker is open in the scrape and in /health',
      );
      assert.equal(report.advice.runbook, 'docs/runbooks.md#circuitbreakeropen');
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
  });
});
