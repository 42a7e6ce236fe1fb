import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../src/stack/freePort.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './support/otlpReceiver.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// The three services export their spans to a collector of the test's own (OTLP/HTTP, JSON); one
// checkout is then one trace across them, each span parented as the work nested.
let receiver: OtlpReceiver;
let stack: TestStack;

before(async () => {
  receiver = await startOtlpReceiver();
  stack = await startTestStack({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    // The receiver reads JSON; protobuf, the default, is proven in startTracing.test.ts.
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Exported a tenth of a second after they end, not five: the test waits less.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
});

after(async () => {
  await stack?.stop();
  await receiver?.close();
});

const SERVER = 2;
const CLIENT = 3;

/** The one span that `where` picks, failing with what there was when there is not exactly one. */
function one(spans: ReceivedSpan[], what: string, where: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(where);
  assert.equal(
    found.length,
    1,
    `${what}: ${found.length} found among ${spans.map((s) => `${s.service} ${s.name}`)}`,
  );
  return found[0] as ReceivedSpan;
}

const linesOf = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
  spans.filter((span) => span.parentSpanId === parent.spanId);

test("one checkout's spans across the three services: request, steps, calls, statements, parented right", async () => {
  const traceId = '5b8efff798038103d269b633813fc60c';
  const callerSpanId = 'eee19b7ec3c1b174';
  const { cartId, token } = await stack.cart('usr_traced');
  const response = await stack.api('POST', '/api/checkout/complete', {
    token,
    body: { cartId, paymentToken: 'pm_card_visa' },
    headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
  });
  assert.equal(response.status, 201);
  const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
  await eventually(
    async () =>
      ['POST /reservations', 'POST /v1/payment_intents', 'POST /api/checkout/complete'].every((name) =>
        inTrace().some((span) => span.name === name && span.kind === SERVER),
      ),
    10_000,
    "the three services' request spans at the collector",
  );
  const spans = inTrace();
  assert.deepEqual([...new Set(spans.map((span) => span.service))].sort(), [
    'checkout',
    'inventory',
    'payment-sandbox',
  ]);

  const request = one(spans, 'the checkout request', (s) => s.name === 'POST /api/checkout/complete');
  assert.equal(request.service, 'checkout');
  assert.equal(request.parentSpanId, callerSpanId);
  assert.equal(request.attributes['http.route'], '/api/checkout/complete');
  assert.equal(request.attributes['http.response.status_code'], 201);

  // The attempt's id, as the database holds it, on every step.
  const attempt = await stack.db.query<{ id: string }>(
    'SELECT id FROM checkout_attempts WHERE cart_id = $1',
    [cartId],
  );
  const attemptId = attempt.rows[0]?.id;
  assert.ok(attemptId);
  const step = (name: string) => {
    const span = one(spans, name, (s) => s.name === name);
    assert.equal(span.parentSpanId, request.spanId, `${name} is a step of the request`);
    assert.equal(span.attributes['checkout.attempt.id'], attemptId, `${name} names the attempt`);
    assert.equal(span.statusCode, 0, `${name} did not fail`);
    return span;
  };
  const statementsOf = (parent: ReceivedSpan, database: string) =>
    childrenOf(spans, parent).filter(
      (s) => s.attributes['db.system.name'] === 'postgresql' && s.attributes['db.namespace'] === database,
    );
  for (const name of ['checkout.attempt', 'checkout.order'])
    assert.ok(
      statementsOf(step(name), 'checkout').some((s) => s.name.startsWith('pg.query')),
      `${name} has its statements`,
    );

  // Each call a client span of its step; the service called answers in a server span under it, its own
  // statements under that.
  const calls: [string, string, string, string][] = [
    ['checkout.reserve', '/reservations', 'inventory', 'inventory'],
    ['checkout.charge', '/v1/payment_intents', 'payment-sandbox', 'payment_sandbox'],
  ];
  for (const [stepName, path, service, database] of calls) {
    const call = one(childrenOf(spans, step(stepName)), `the call of ${stepName}`, (s) => s.kind === CLIENT);
    assert.equal(call.attributes['url.path'], path);
    assert.equal(call.service, 'checkout');
    const served = one(spans, `${service} serving ${path}`, (s) => s.parentSpanId === call.spanId);
    assert.equal(served.service, service);
    assert.equal(served.kind, SERVER);
    assert.equal(served.name, `POST ${path}`);
    assert.ok(
      statementsOf(served, database).some((s) => s.name.startsWith('pg.query')),
      `${service}'s statements`,
    );
  }

  // The stock's commit, batched after the answer for many checkouts, is a trace of its own, not this one's.
  await eventually(
    async () => receiver.spans.some((s) => s.name === 'checkout.commit_stock'),
    10_000,
    'the batch that sold the stock',
  );
  assert.ok(!inTrace().some((s) => s.attributes['url.path'] === '/reservations/commit'));
  const batch = receiver.spans.find((s) => s.name === 'checkout.commit_stock') as ReceivedSpan;
  assert.equal(batch.parentSpanId, '');
  await eventually(
    async () =>
      receiver.spans.some(
        (s) => s.parentSpanId === batch.spanId && s.attributes['url.path'] === '/reservations/commit',
      ),
    10_000,
    "the batch's call to the inventory",
  );

  // The log follows the trace: the request's line names the request's own span.
  await eventually(
    async () =>
      (await stack.log('checkout')).some(
        (line) =>
          line.msg === 'request_completed' && line.trace_id === traceId && line.span_id === request.spanId,
      ),
    5_000,
    "the request's line with its trace_id and span_id",
  );
});

test('an instance without an endpoint exports nothing, yet its traceparent carries the trace on', async () => {
  const quiet = await stack.serve({ OTEL_EXPORTER_OTLP_ENDPOINT: '' });
  try {
    const traceId = '7c1e0a0f4a5b4bd6a3c9e1d2f3a4b5c6';
    const { cartId, token } = await stack.cart('usr_untraced');
    const response = await stack.api('POST', '/api/checkout/complete', {
      token,
      baseUrl: quiet.url,
      body: { cartId, paymentToken: 'pm_card_visa' },
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    assert.equal(response.status, 201);
    // The inventory still exports: its request span is the child of the quiet instance's own span.
    const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
    await eventually(
      async () => inTrace().some((s) => s.service === 'inventory' && s.name === 'POST /reservations'),
      10_000,
      "the inventory's span in the quiet instance's trace",
    );
    const reserve = one(inTrace(), 'the reservation', (s) => s.name === 'POST /reservations');
    // Its line (the stack's checkout logs this trace too: the gateway's webhook, sent in the trace).
    const line = [...(await stack.log('checkout')), ...linesOf(quiet.output())].find(
      (l) =>
        l.msg === 'request_completed' &&
        l.trace_id === traceId &&
        l.endpoint === 'POST /api/checkout/complete',
    );
    assert.ok(line, "the quiet instance's request line with the caller's trace_id");
    assert.equal(reserve.parentSpanId, line.span_id);
    // Several export intervals later, still nothing of the quiet instance: of the checkout service, only
    // the stack's own instance answering the webhook exported spans in this trace.
    await sleep(1000);
    const checkoutSpans = inTrace().filter((s) => s.service === 'checkout');
    for (const span of checkoutSpans.filter((s) => s.kind === SERVER))
      assert.equal(span.name, 'POST /webhooks/stripe');
    assert.ok(!checkoutSpans.some((s) => s.name.startsWith('checkout.')));
  } finally {
    quiet.child.kill('SIGTERM');
    await quiet.exited;
  }
});

test("a probe is not traced: no span of a health check's trace, in any service", async () => {
  const probeTrace = '3d2f0c9e8b7a6d5c4b3a29181716f5e4';
  const probe = await fetch(`${stack.info.checkoutUrl}/health/ready`, {
    headers: { traceparent: `00-${probeTrace}-a1b2c3d4e5f60718-01` },
  });
  assert.equal(probe.status, 200);
  // A checkout right after it: once its spans are in, the probe's would have been with them.
  const checkoutTrace = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';
  const { cartId, token } = await stack.cart('usr_after_probe');
  const response = await stack.api('POST', '/api/checkout/complete', {
    token,
    body: { cartId, paymentToken: 'pm_card_visa' },
    headers: { traceparent: `00-${checkoutTrace}-a1b2c3d4e5f60719-01` },
  });
  assert.equal(response.status, 201);
  await eventually(
    async () =>
      receiver.spans.some((s) => s.traceId === checkoutTrace && s.name === 'POST /api/checkout/complete'),
    10_000,
    "the checkout's span after the probe",
  );
  await sleep(500);
  assert.deepEqual(
    receiver.spans.filter((s) => s.traceId === probeTrace).map((s) => `${s.service} ${s.name}`),
    [],
  );
});

test('spans that cannot reach the collector are said so in the log, with how many were lost', async () => {
  // A port nobody listens on: every export is refused.
  const nowhere = `http://127.0.0.1:${await freePort()}`;
  const lost = await stack.serve({
    OTEL_EXPORTER_OTLP_ENDPOINT: nowhere,
    OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
  });
  try {
    const answer = await fetch(`${lost.url}/openapi.json`);
    assert.equal(answer.status, 200);
    await eventually(
      async () =>
        linesOf(lost.output()).some((l) => l.msg === 'span_export_failed' && Number(l.spansLost) >= 1),
      20_000,
      'span_export_failed in the instance log',
    );
  } finally {
    lost.child.kill('SIGTERM');
    await lost.exited;
  }
});
