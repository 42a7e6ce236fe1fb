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

  /**
   * Sends a checkout's headers and `sent` of its body (half of it unless told) to the checkout service,
   * then closes the connection.
   */
  const abandon = async (
    path: string,
    options: { body?: unknown; sent?: number; headers?: Record<string, string> } = {},
  ) => {
    const { hostname, port } = new URL(stack.info.checkoutUrl);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const body = JSON.stringify(options.body ?? { cartId: 'cart_abandoned', paymentToken: 'pm_card_visa' });
    const headers = Object.entries(options.headers ?? {})
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n${headers}` +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, options.sent ?? 10)}`,
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
      body: { cartId, paymentToken: 'pm_card_visa' },
    });
    assert.equal(answer.status, 201);
  });

  test('a client that leaves while its checkout runs: a 499 line, the checkout goes on, its key replays the order', async () => {
    const { cartId, token } = await stack.cart('usr_leaves_mid_checkout');
    const key = 'key-leaves-mid-checkout';
    const body = { cartId, paymentToken: 'pm_card_visa' };
    // The gateway takes its time: the client is gone before the charge answers.
    await stack.fault('payment', { mode: 'latency', latencyMs: 500 });
    try {
      await abandon('/api/checkout/complete', {
        body,
        sent: Number.POSITIVE_INFINITY,
        headers: {
          authorization: `Bearer ${token}`,
          'idempotency-key': key,
          'x-request-id': 'req-leaves-mid-checkout',
        },
      });
      // The charge is still under way when the client has gone: the key is in use until it ends.
      const retry = await stack.api('POST', '/api/checkout/complete', {
        token,
        body,
        headers: { 'idempotency-key': key },
      });
      assert.equal(retry.status, 409, retry.text);
      assert.equal(retry.body.error, 'IDEMPOTENCY_KEY_IN_USE');
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    const line = (await stack.log('checkout')).find(
      (l) => l.msg === 'request_completed' && l.requestId === 'req-leaves-mid-checkout',
    );
    assert.equal(line?.statusCode, 499, 'the request line says the client left');
    assert.equal(line?.error, 'CLIENT_CLOSED_REQUEST');
    assert.equal(line?.errorId, undefined);
    // Once it ends, the same key gets the order the client never saw, byte for byte.
    let replay: Awaited<ReturnType<TestStack['api']>> | undefined;
    await eventually(
      async () => {
        replay = await stack.api('POST', '/api/checkout/complete', {
          token,
          body,
          headers: { 'idempotency-key': key },
        });
        return replay.status !== 409;
      },
      10_000,
      'the checkout ended',
    );
    assert.ok(replay);
    assert.equal(replay.status, 201, replay.text);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal((await stack.reconcile()).code, 0);
  });
});
