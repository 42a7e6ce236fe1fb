import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from './support/processes.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// Clients that hang up half-way through their bodies, as an outside probe does: more of them than the
// dashboard lists 5xx. None is a server error anywhere: not in the log, the metrics, the dashboard or triage.
describe('clients that close mid-body on the whole stack', () => {
  let stack: TestStack;
  const ABANDONED = 25;

  before(async () => {
    stack = await startTestStack();
  });
  after(() => stack?.stop());

  /** Sends the headers and half of a checkout body to the checkout service, then closes the connection. */
  const abandon = async (path: string) => {
    const { hostname, port } = new URL(stack.info.checkoutUrl);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const body = JSON.stringify({ cartId: 'cart_abandoned', paymentToken: 'tok_visa' });
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await sleep(20);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.destroy();
    await closed;
  };

  test('each is one info line 499 and a 499 in the metrics; the dashboard lists none, triage groups none', async () => {
    for (let i = 0; i < ABANDONED; i++) await abandon('/api/checkout/complete');
    const departures = async () =>
      (await stack.log('checkout')).filter(
        (l) => l.msg === 'request_completed' && l.endpoint === 'POST /api/checkout/complete',
      );
    await eventually(async () => (await departures()).length >= ABANDONED, 10_000, 'the request lines');

    const lines = await departures();
    assert.equal(lines.length, ABANDONED);
    for (const line of lines) {
      assert.equal(line.level, 'info');
      assert.equal(line.statusCode, 499);
      assert.equal(line.error, 'CLIENT_CLOSED_REQUEST');
      assert.equal(line.errorId, undefined);
    }
    const log = await stack.log('checkout');
    assert.deepEqual(
      log.filter((l) => l.errorId !== undefined || l.stack !== undefined || l.level === 'error'),
      [],
      'no error line, no stack, no errorId',
    );

    const metrics = await stack.api('GET', '/metrics', { token: null });
    assert.match(
      metrics.text,
      new RegExp(
        `^http_requests_total\\{method="POST",route="/api/checkout/complete",status_code="499",service="checkout"\\} ${ABANDONED}$`,
        'm',
      ),
    );
    assert.doesNotMatch(metrics.text, /route="\/api\/checkout\/complete",status_code="5\d\d"/);

    const dashboard = await stack.api('GET', '/dashboard/data', { token: null });
    assert.equal(dashboard.status, 200);
    assert.deepEqual(dashboard.body.recentErrors, [], 'the latest 5xx list none');
    assert.equal(dashboard.body.errors5xx, 0);

    const run = await runCli(['triage', '--format', 'json'], { STEADFAST_DATA_DIR: stack.dataDir });
    const report = JSON.parse(run.stdout || '{}');
    assert.deepEqual(report.exceptionGroups, [], `triage groups none: ${run.stderr}`);
    assert.equal(report.status, 'healthy', report.headline);
    assert.equal(run.code, 0, run.stderr);

    // And the service serves the next checkout as if nothing happened.
    const { cartId, token } = await stack.cart('usr_after_abandon');
    const answer = await stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'tok_visa' },
    });
    assert.equal(answer.status, 201);
  });
});
