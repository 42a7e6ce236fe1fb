import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import Type from 'typebox';
import { AppError } from '../errors/AppError.ts';
import { PlatformErrors } from '../errors/codes.ts';
import { DependencyUnavailableError } from '../errors/DependencyUnavailableError.ts';
import { PlatformMetrics } from '../metrics/PlatformMetrics.ts';
import { createHttpServer } from './createHttpServer.ts';
import { serverWithLogs } from './httpServer.fixture.ts';

/** The fixture's server with the routes these tests call: a bug, overload, a dependency down, a body. */
function serverWithRoutes(timeouts: { headersTimeoutMs?: number; requestTimeoutMs?: number } = {}) {
  const server = serverWithLogs(timeouts);
  const { app } = server;
  app.get('/bug', async () => {
    const user = undefined as unknown as { balance: number };
    return user.balance;
  });
  app.get('/full', async () => {
    throw new AppError(PlatformErrors.SERVER_OVERLOADED, { retryAfterSeconds: 1 });
  });
  app.get('/items/:id', async () => ({ ok: true }));
  app.get('/down', async () => {
    throw new DependencyUnavailableError('paymentGateway', 'timeout', { retryAfterSeconds: 2 });
  });
  app.post('/echo', { schema: { body: Type.Object({ n: Type.Integer() }) } }, async (request) => {
    request.logContext.cartId = 'cart_1';
    if (request.body.n < 0) throw new AppError(PlatformErrors.RATE_LIMITED, { retryAfterSeconds: 5 });
    return request.body;
  });
  return server;
}

test('a bug: 500 with an errorId; one error line with that id and the stack; one request line', async () => {
  const { app, lines } = serverWithRoutes();
  const response = await app.inject({ method: 'GET', url: '/bug', headers: { 'x-request-id': 'req-1' } });
  assert.equal(response.statusCode, 500);
  assert.equal(response.headers['x-request-id'], 'req-1');
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const body = response.json();
  assert.equal(body.error, 'INTERNAL_SERVER_ERROR');
  assert.doesNotMatch(response.body, /balance|TypeError|createHttpServer/);
  const errorLine = lines.find((l) => l.errorId === body.errorId && l.stack);
  assert.ok(errorLine);
  assert.equal(errorLine.errorClass, 'TypeError');
  assert.match(String(errorLine.stack), /createHttpServer\.test\.ts/);
  assert.equal(errorLine.requestId, 'req-1');
  const requestLines = lines.filter((l) => l.msg === 'request_completed');
  assert.equal(requestLines.length, 1);
  assert.equal(requestLines[0]?.statusCode, 500);
  assert.equal(requestLines[0]?.errorId, body.errorId);
  assert.equal(requestLines[0]?.endpoint, 'GET /bug');
  await app.close();
});

test('a dependency down: 503 with Retry-After, retryAfterSeconds, an errorId and the dependency in the log', async () => {
  const { app, lines } = serverWithRoutes();
  const response = await app.inject({ method: 'GET', url: '/down' });
  assert.equal(response.statusCode, 503);
  assert.equal(response.headers['retry-after'], '2');
  assert.equal(response.json().retryAfterSeconds, 2);
  const line = lines.find((l) => l.errorId === response.json().errorId);
  assert.equal(line?.dependency, 'paymentGateway');
  assert.equal(line?.level, 40);
  await app.close();
});

test('4xx: no errorId, no error line; the request line carries the code and the business context', async () => {
  const { app, lines } = serverWithRoutes();
  const response = await app.inject({ method: 'POST', url: '/echo', payload: { n: -1 } });
  assert.equal(response.statusCode, 429);
  assert.equal(response.headers['retry-after'], '5');
  assert.equal(response.json().errorId, undefined);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.error, 'RATE_LIMITED');
  assert.equal(lines[0]?.cartId, 'cart_1');
  await app.close();
});

test('an unsafe X-Request-Id is replaced, never echoed', async () => {
  const { app } = serverWithRoutes();
  const response = await app.inject({
    method: 'GET',
    url: '/missing',
    headers: { 'x-request-id': 'a\u0000b"}' },
  });
  assert.equal(response.statusCode, 404);
  assert.equal(response.json().error, 'ROUTE_NOT_FOUND');
  assert.match(String(response.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  await app.close();
});

test('GET /metrics counts every request by route pattern, never by raw URL', async () => {
  const { app, metrics } = serverWithRoutes();
  await app.inject({ method: 'POST', url: '/echo', payload: { n: 1 } });
  await app.inject({ method: 'GET', url: '/bug' });
  await app.inject({ method: 'GET', url: '/no/such/path/123' });
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  assert.match(
    response.body,
    /^http_requests_total\{method="POST",route="\/echo",status_code="200",service="test"\} 1$/m,
  );
  assert.match(
    response.body,
    /^http_requests_total\{method="GET",route="\/bug",status_code="500",service="test"\} 1$/m,
  );
  assert.match(response.body, /route="unmatched",status_code="404"/);
  assert.doesNotMatch(response.body, /no\/such\/path/);
  assert.equal(await metrics.valueOf('http_requests_total', { route: '/bug', status_code: 500 }), 1);
  await app.close();
});

test("a request's log lines carry trace_id and span_id: its traceparent's trace, or a new trace", async () => {
  const { app, lines, serverErrors } = serverWithRoutes();
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  await app.inject({
    method: 'GET',
    url: '/bug',
    headers: { traceparent: `00-${traceId}-${callerSpan}-01` },
  });
  const own = lines.filter((l) => l.trace_id === traceId);
  assert.deepEqual(own.map((l) => l.msg).sort(), [
    "Cannot read properties of undefined (reading 'balance')",
    'request_completed',
  ]);
  // The request's own span: one id on all its lines, not the caller's.
  const spans = new Set(own.map((l) => l.span_id));
  assert.equal(spans.size, 1);
  assert.match(String([...spans][0]), /^[0-9a-f]{16}$/);
  assert.ok(!spans.has(callerSpan));
  assert.ok(own.every((l) => !('traceId' in l)));
  // The dashboard's note of the 5xx names the same trace.
  assert.equal(serverErrors[0]?.trace_id, traceId);
  await app.inject({ method: 'GET', url: '/bug', headers: { traceparent: 'not-a-traceparent' } });
  const fresh = lines.at(-1)?.trace_id;
  assert.match(String(fresh), /^[0-9a-f]{32}$/);
  assert.notEqual(fresh, traceId);
  await app.close();
});

test('a body sent as text/plain is 415 UNSUPPORTED_MEDIA_TYPE, like any body not sent as JSON', async () => {
  const { app } = serverWithRoutes();
  const response = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'text/plain' },
    payload: '{"n":1}',
  });
  assert.equal(response.statusCode, 415);
  assert.equal(response.json().error, 'UNSUPPORTED_MEDIA_TYPE');
  await app.close();
});

test('requests shed for load: no stack trace, one sampled request line a second, every one counted', async () => {
  const { app, lines, metrics } = serverWithRoutes();
  for (let i = 0; i < 50; i++) {
    const response = await app.inject({ method: 'GET', url: '/full' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error, 'SERVER_OVERLOADED');
    assert.equal(response.headers['retry-after'], '1');
  }
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['request_completed'],
  );
  assert.equal(lines[0]?.error, 'SERVER_OVERLOADED');
  assert.equal(
    await metrics.valueOf('http_requests_total', { route: '/full', status_code: 503 }),
    50,
    'the metrics count every one',
  );
  await sleep(1000);
  await app.inject({ method: 'GET', url: '/full' });
  assert.equal(lines.length, 2);
  assert.equal(lines[1]?.refusalsNotLogged, 49, 'the next line tells how many were not logged');
  // Other answers are all logged.
  await app.inject({ method: 'POST', url: '/echo', payload: { n: 1 } });
  await app.inject({ method: 'POST', url: '/echo', payload: { n: 2 } });
  assert.equal(lines.length, 4);
  await app.close();
});

test('a URL the router cannot read: 414 or 400 in the contract, with a request id and one request line', async () => {
  const { app, lines } = serverWithRoutes();
  for (const [url, status, code] of [
    [`/items/${'a'.repeat(200)}`, 414, 'URL_TOO_LONG'],
    ['/items/%zz', 400, 'INVALID_URL'],
  ] as const) {
    lines.length = 0;
    const response = await app.inject({ method: 'GET', url, headers: { 'x-request-id': 'req-url' } });
    assert.equal(response.statusCode, status);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(response.json().error, code);
    assert.equal(response.headers['x-request-id'], 'req-url');
    assert.doesNotMatch(response.body, /FST_/);
    assert.deepEqual(
      lines.map((l) => [l.msg, l.statusCode]),
      [['request_completed', status]],
    );
  }
  await app.close();
});

test('a request the HTTP parser refuses is answered in the contract, then the connection closes', async () => {
  const { app } = serverWithRoutes();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const raw = (request: string) =>
    rawExchange(app, async (socket) => {
      socket.end(request);
    });
  for (const [request, status, code] of [
    ['GET /items/1 HTTP/1.1\r\nHost: x\r\nX-A: a\rSet-Cookie: x=1\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    [`GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
  ] as const) {
    const answer = await raw(request);
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    assert.match(head, new RegExp(`^HTTP/1.1 ${status} `));
    assert.match(head, /content-type: application\/problem\+json/i);
    assert.doesNotMatch(head, /set-cookie/i);
    assert.equal(JSON.parse(body).error, code);
  }
  await app.close();
});

test('an error answered through a slow async onSend hook is sent once, whole', async () => {
  // The error handler is async: had it not returned the reply, Fastify would send a second, empty answer
  // while the first one's onSend still ran, and whichever onSend finished first would be the response.
  const { app } = serverWithRoutes();
  const payloads: unknown[] = [];
  app.get(
    '/declined',
    {
      onSend: async (_request, _reply, payload) => {
        payloads.push(payload);
        // The first answer's hook is the slow one (a database write in the checkout route).
        if (payloads.length === 1) await sleep(50);
        return payload;
      },
    },
    async () => {
      throw new AppError(PlatformErrors.RATE_LIMITED, { retryAfterSeconds: 5 });
    },
  );
  const response = await app.inject({ method: 'GET', url: '/declined' });
  assert.equal(response.statusCode, 429);
  assert.equal(response.json().error, 'RATE_LIMITED');
  assert.equal(payloads.length, 1, 'onSend ran once: one answer');
});

/** Opens a raw connection to `app`, lets `act` write to it, and resolves with what came back once it closed. */
async function rawExchange(
  app: { server: { address(): unknown } },
  act: (socket: import('node:net').Socket) => Promise<void>,
): Promise<string> {
  const { port } = app.server.address() as AddressInfo;
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (chunk) => {
    data += chunk;
  });
  socket.on('error', () => {});
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await new Promise((resolve) => socket.once('connect', resolve));
  await act(socket);
  await closed;
  return data;
}

/** Resolves once `predicate` holds, or fails after `ms`. */
async function until(predicate: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(10);
  }
}

const HALF_A_BODY =
  'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"n":';

test('a client that closes mid-body: one info line 499 CLIENT_CLOSED_REQUEST, counted as 499, no server error', async () => {
  const { app, lines, metrics, serverErrors } = serverWithRoutes();
  await app.listen({ port: 0, host: '127.0.0.1' });
  lines.length = 0; // the listening line
  try {
    // The ways a client leaves: it closes (FIN), it resets (RST), it ends its side and waits.
    const leave = [
      (socket: import('node:net').Socket) => socket.destroy(),
      (socket: import('node:net').Socket) => socket.resetAndDestroy(),
      (socket: import('node:net').Socket) => socket.end(),
    ];
    for (const [i, close] of leave.entries()) {
      await rawExchange(app, async (socket) => {
        socket.write(HALF_A_BODY);
        await sleep(50);
        close(socket);
      });
      await until(() => lines.length === i + 1, 2000, 'the request line');
    }
    await sleep(100);
    assert.equal(lines.length, 3, `one line per request: ${JSON.stringify(lines)}`);
    for (const line of lines) {
      assert.equal(line.msg, 'request_completed');
      assert.equal(line.level, 30, 'info');
      assert.equal(line.statusCode, 499);
      assert.equal(line.error, 'CLIENT_CLOSED_REQUEST');
      assert.equal(line.endpoint, 'POST /echo');
      assert.equal(line.stack, undefined, 'no stack');
      assert.equal(line.errorId, undefined, 'no errorId');
      assert.equal(line.errorClass, undefined);
    }
    assert.deepEqual(serverErrors, [], 'onServerError was not called');
    assert.equal(await metrics.valueOf('http_requests_total', { route: '/echo', status_code: 499 }), 3);
    assert.equal(
      await metrics.valueOf('http_requests_total', { route: '/echo', status_code: 500 }),
      undefined,
    );
    const scrape = await metrics.scrape();
    assert.match(
      scrape,
      /^http_requests_total\{method="POST",route="\/echo",status_code="499",service="test"\} 3$/m,
    );
    // The server is none the worse: the next request is answered.
    const next = await app.inject({ method: 'POST', url: '/echo', payload: { n: 1 } });
    assert.equal(next.statusCode, 200);
  } finally {
    await app.close();
  }
});

test('a body trickled past the request timeout keeps its 408; its line says 408 REQUEST_TIMEOUT, no server error', async () => {
  const { app, lines, metrics, serverErrors } = serverWithRoutes({
    headersTimeoutMs: 500,
    requestTimeoutMs: 500,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  lines.length = 0; // the listening line
  try {
    const answer = await rawExchange(app, async (socket) => {
      socket.write(HALF_A_BODY);
    });
    assert.match(answer, /^HTTP\/1.1 408 /);
    assert.match(answer, /"error":"REQUEST_TIMEOUT"/);
    await until(() => lines.length > 0, 2000, 'the request line');
    await sleep(100);
    assert.deepEqual(
      lines.map((l) => [l.msg, l.level, l.statusCode, l.error, l.stack, l.errorId]),
      [['request_completed', 30, 408, 'REQUEST_TIMEOUT', undefined, undefined]],
    );
    assert.deepEqual(serverErrors, []);
    assert.equal(await metrics.valueOf('http_requests_total', { route: '/echo', status_code: 408 }), 1);
  } finally {
    await app.close();
  }
});

test('a client that leaves while its request runs: one 499 line when it leaves, none more when the handler ends', async () => {
  const { app, lines, metrics, serverErrors } = serverWithRoutes();
  let finished = false;
  app.post('/slow', async (request) => {
    request.logContext.cartId = 'cart_slow';
    await sleep(300);
    finished = true;
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  lines.length = 0; // the listening line
  try {
    await rawExchange(app, async (socket) => {
      socket.write(
        'POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      );
      await sleep(50);
      socket.destroy();
    });
    await until(() => finished, 2000, 'the handler to end');
    await sleep(100);
    assert.deepEqual(
      lines.map((l) => [l.msg, l.statusCode, l.error, l.cartId, l.errorId]),
      [['request_completed', 499, 'CLIENT_CLOSED_REQUEST', 'cart_slow', undefined]],
    );
    assert.deepEqual(serverErrors, []);
    assert.equal(await metrics.valueOf('http_requests_total', { route: '/slow', status_code: 499 }), 1);
  } finally {
    await app.close();
  }
});

test('a bug is still a bug when its client has left: the error line, its errorId and onServerError', async () => {
  const { app, lines, serverErrors } = serverWithRoutes();
  app.post('/slow-bug', async () => {
    await sleep(100);
    throw new TypeError('a real bug');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  lines.length = 0; // the listening line
  try {
    await rawExchange(app, async (socket) => {
      socket.write(
        'POST /slow-bug HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      );
      await sleep(20);
      socket.destroy();
    });
    await until(() => serverErrors.length === 1, 2000, 'the server error');
    const errorLine = lines.find((l) => l.errorId === serverErrors[0]?.errorId && l.stack);
    assert.equal(errorLine?.errorClass, 'TypeError');
    assert.equal(errorLine?.level, 50);
  } finally {
    await app.close();
  }
});

test('a flood of probes: one line a second per route and status, a change of status at once, every one counted', async () => {
  const { app, lines, metrics } = serverWithRoutes();
  let status = 200;
  app.get('/health/ready', async (_request, reply) => reply.code(status).send({ status }));
  for (let i = 0; i < 50; i++) await app.inject({ method: 'GET', url: '/health/ready' });
  assert.deepEqual(
    lines.map((l) => [l.msg, l.statusCode, l.probesNotLogged]),
    [['request_completed', 200, undefined]],
  );
  status = 503;
  await app.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(lines.at(-1)?.statusCode, 503, 'the first 503 is logged at once');
  assert.equal(
    await metrics.valueOf('http_requests_total', { route: '/health/ready', status_code: 200 }),
    50,
  );
  await sleep(1000);
  status = 200;
  await app.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(lines.length, 3);
  assert.equal(lines[2]?.probesNotLogged, 49, 'the next line tells how many were not logged');
  // Other routes are not sampled.
  for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: '/items/1' });
  assert.equal(lines.length, 6);
  await app.close();
});

/** Opens a keep-alive connection, sends one request, and resolves with how long the server kept it open after its answer. */
async function idleLifetimeMs(port: number): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  let answeredAt = 0;
  socket.on('data', () => {
    answeredAt ||= performance.now();
  });
  socket.write('GET /items/1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  await new Promise((resolve) => socket.once('close', resolve));
  return performance.now() - answeredAt;
}

test('idle connections live keepAliveTimeoutMs (the load balancer must give up on them first); by default longer than HAProxy keeps its own', async () => {
  const { app } = serverWithRoutes();
  await app.listen({ port: 0, host: '127.0.0.1' });
  // Node's own default is 5 s, below HAProxy's `timeout http-keep-alive 10s`: a keep-alive race.
  assert.equal(app.server.keepAliveTimeout, 72_000);
  await app.close();

  const metrics = new PlatformMetrics('test');
  const short = createHttpServer({
    logger: pino({ level: 'silent' }),
    metrics,
    bodyLimit: 1024,
    keepAliveTimeoutMs: 400,
  });
  short.get('/items/:id', async () => ({ ok: true }));
  await short.listen({ port: 0, host: '127.0.0.1' });
  try {
    const lifetime = await idleLifetimeMs((short.server.address() as AddressInfo).port);
    assert.ok(lifetime >= 350, `the idle connection was closed after ${Math.round(lifetime)} ms, before 400`);
    assert.ok(lifetime < 3000, `the idle connection stayed open ${Math.round(lifetime)} ms, past 400`);
  } finally {
    await short.close();
  }
});

test('a keep-alive client that sends one request whole and leaves half-way through the next: 200, then 499', async () => {
  const { app, lines, metrics, serverErrors } = serverWithRoutes();
  await app.listen({ port: 0, host: '127.0.0.1' });
  lines.length = 0; // the listening line
  try {
    const answer = await rawExchange(app, async (socket) => {
      socket.write(
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"n":1}',
      );
      await until(() => lines.length === 1, 2000, 'the first answer');
      socket.write(HALF_A_BODY);
      await sleep(50);
      socket.destroy();
    });
    assert.match(answer, /^HTTP\/1.1 200 /);
    await until(() => lines.length === 2, 2000, 'the second request line');
    assert.deepEqual(
      lines.map((l) => [l.statusCode, l.error]),
      [
        [200, undefined],
        [499, 'CLIENT_CLOSED_REQUEST'],
      ],
    );
    assert.deepEqual(serverErrors, []);
    assert.equal(await metrics.valueOf('http_requests_total', { route: '/echo', status_code: 200 }), 1);
    assert.equal(await metrics.valueOf('http_requests_total', { route: '/echo', status_code: 499 }), 1);
  } finally {
    await app.close();
  }
});

test('what Node would answer itself is answered in the contract: no Host, an unknown Expect, CONNECT', async () => {
  const { app } = serverWithRoutes();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const raw = (request: string) =>
    rawExchange(app, async (socket) => {
      socket.end(request);
    });
  const answerOf = (text: string) => {
    const [head = '', body = ''] = text.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), head, body };
  };
  const noHost = answerOf(await raw('GET /items/1 HTTP/1.1\r\nConnection: close\r\n\r\n'));
  assert.equal(noHost.status, 400);
  assert.match(noHost.head, /x-request-id: /i);
  assert.equal(JSON.parse(noHost.body).error, 'MALFORMED_REQUEST');
  // HTTP/1.0 has no Host requirement.
  assert.equal(answerOf(await raw('GET /items/1 HTTP/1.0\r\n\r\n')).status, 200);
  const expect = answerOf(
    await raw('GET /items/1 HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nConnection: close\r\n\r\n'),
  );
  assert.equal(expect.status, 200, 'an expectation the server does not know is ignored');
  const tunnel = answerOf(await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'));
  assert.equal(tunnel.status, 404);
  assert.equal(JSON.parse(tunnel.body).error, 'ROUTE_NOT_FOUND');
  await app.close();
});

test('every answer carries nosniff; only the exact health and metrics paths are operational', async () => {
  const { app } = serverWithRoutes();
  for (const url of ['/items/1', '/nowhere', '/bug']) {
    const response = await app.inject({ method: 'GET', url });
    assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
  }
  const { isOperationalRoute } = await import('./createHttpServer.ts');
  for (const url of ['/health', '/health/live', '/health/ready?x=1', '/metrics'])
    assert.ok(isOperationalRoute(url), url);
  for (const url of ['/metricsX', '/healthy', '/health/../api/carts', '/metrics/x']) {
    assert.ok(!isOperationalRoute(url), url);
  }
});

test('a body the parser refuses after the request began: the line records the 400 it was answered, not a departure', async () => {
  const { app, lines } = serverWithRoutes();
  await app.listen({ port: 0, host: '127.0.0.1' });
  lines.length = 0; // the listening line
  try {
    const answer = await rawExchange(app, async (socket) => {
      socket.write(
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      );
    });
    assert.match(answer, /^HTTP\/1.1 400 /);
    await until(() => lines.length > 0, 2000, 'the request line');
    assert.deepEqual(
      lines.map((l) => [l.statusCode, l.error]),
      [[400, 'MALFORMED_REQUEST']],
    );
  } finally {
    await app.close();
  }
});
