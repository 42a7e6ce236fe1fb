import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePrometheusText } from '../../triage/prometheusText.ts';
import { DependencyUnavailableError } from '../errors/DependencyUnavailableError.ts';
import { PlatformMetrics } from '../metrics/PlatformMetrics.ts';
import { runInTrace, startTrace, traceFields } from '../tracing/traceContext.ts';
import { HttpDependency } from './HttpDependency.ts';

// A real HTTP server on loopback whose behaviour each test sets.
type Behaviour = 'ok' | 'declined' | 'limited' | 'error' | 'hang';

describe('HttpDependency: breaker, timeout and bulkhead around one dependency', () => {
  let server: Server;
  let baseUrl: string;
  let behaviour: Behaviour = 'ok';
  let calls = 0;
  let traceparents: (string | undefined)[] = [];

  before(async () => {
    server = createServer((req, res) => {
      calls++;
      traceparents.push(req.headers.traceparent as string | undefined);
      if (behaviour === 'hang') return;
      const status = { ok: 200, declined: 402, limited: 429, error: 500 }[behaviour];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ behaviour }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    behaviour = 'ok';
    calls = 0;
    traceparents = [];
  });

  const dependency = (overrides: Partial<ConstructorParameters<typeof HttpDependency>[0]> = {}) =>
    new HttpDependency({
      name: 'gateway',
      baseUrl,
      timeoutMs: 200,
      breakerThreshold: 3,
      halfOpenAfterMs: 300,
      maxConcurrent: 4,
      maxQueue: 0,
      ...overrides,
    });

  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DependencyUnavailableError);
    return error;
  };

  test('answers below 500 are answers, not failures', async () => {
    const http = dependency();
    behaviour = 'declined';
    for (let i = 0; i < 5; i++) assert.equal((await http.request('POST', '/charge')).status, 402);
    assert.equal(http.breakerState, 'CLOSED');
    await http.close();
  });

  test('an overload status (429) is a failure counted as a 5xx is, when named so; else an answer', async () => {
    behaviour = 'limited';
    const plain = dependency();
    assert.equal((await plain.request('GET', '/')).status, 429);
    const limited = dependency({ overloadStatuses: [429] });
    for (let i = 0; i < 4; i++) {
      const error = await failure(limited.request('GET', '/', { caller: 'user-1' }));
      assert.equal(error.reason, 'server_error');
      assert.equal(error.outcomeUnknown, true);
    }
    assert.equal(limited.breakerState, 'CLOSED', 'one caller alone');
    await failure(limited.request('GET', '/', { caller: 'user-2' }));
    await failure(limited.request('GET', '/', { caller: 'user-3' }));
    assert.equal(limited.breakerState, 'OPEN');
    await Promise.all([plain.close(), limited.close()]);
  });

  test("5xx answers to one caller alone never open the breaker; another caller's, or a timeout, does", async () => {
    const http = dependency();
    behaviour = 'error';
    for (let i = 0; i < 10; i++) {
      assert.equal(
        (await failure(http.request('POST', '/charge', { caller: 'usr_a' }))).reason,
        'server_error',
      );
    }
    assert.equal(http.breakerState, 'CLOSED', "one caller's input cannot open it for everyone");
    assert.equal(calls, 10, 'every call still reached the dependency');
    await failure(http.request('POST', '/charge', { caller: 'usr_b' }));
    assert.equal(http.breakerState, 'CLOSED', "nor bring it to the edge, for the next caller's one failure");
    await failure(http.request('POST', '/charge', { caller: 'usr_c' }));
    assert.equal(
      http.breakerState,
      'OPEN',
      'as many callers failing as the threshold: the dependency is sick',
    );
    await http.close();

    const timedOut = dependency();
    for (const caller of ['usr_a', 'usr_b']) await failure(timedOut.request('POST', '/charge', { caller }));
    behaviour = 'hang';
    assert.equal((await failure(timedOut.request('POST', '/charge', { caller: 'usr_a' }))).reason, 'timeout');
    assert.equal(timedOut.breakerState, 'OPEN', 'a timeout is never about the input');
    await timedOut.close();
  });

  test('a success clears the failures counted: a 5xx before it does not add to those after it', async () => {
    const http = dependency();
    behaviour = 'error';
    await failure(http.request('POST', '/charge', { caller: 'usr_b' }));
    behaviour = 'ok';
    await http.request('POST', '/charge', { caller: 'usr_b' });
    behaviour = 'error';
    for (const caller of ['usr_a', 'usr_c']) await failure(http.request('POST', '/charge', { caller }));
    assert.equal(http.breakerState, 'CLOSED', 'two failures since the success, of three that open it');
    await http.close();
  });

  test('a 5xx may have taken effect; the breaker opens after the threshold and then fails fast', async () => {
    const http = dependency();
    behaviour = 'error';
    for (let i = 0; i < 3; i++) {
      const error = await failure(http.request('POST', '/charge'));
      assert.equal(error.reason, 'server_error');
      assert.equal(error.outcomeUnknown, true);
    }
    assert.equal(http.breakerState, 'OPEN');
    const open = await failure(http.request('POST', '/charge'));
    assert.equal(open.reason, 'circuit_open');
    assert.equal(open.outcomeUnknown, false, 'a call the breaker refused never left');
    assert.equal(calls, 3);
    assert.ok(http.unhealthySince !== undefined);

    await sleep(350);
    behaviour = 'ok';
    assert.equal((await http.request('GET', '/probe')).status, 200);
    assert.equal(http.breakerState, 'CLOSED');
    assert.equal(http.unhealthySince, undefined);
    await http.close();
  });

  test('a hung call ends at the timeout with an unknown outcome', async () => {
    const http = dependency();
    behaviour = 'hang';
    const started = performance.now();
    const error = await failure(http.request('POST', '/charge'));
    assert.equal(error.reason, 'timeout');
    assert.equal(error.outcomeUnknown, true);
    assert.ok(performance.now() - started < 1000);
    await http.close();
  });

  test('past the bulkhead a call is refused at once, never sent', async () => {
    const http = dependency({ maxConcurrent: 1, maxQueue: 0, timeoutMs: 500 });
    behaviour = 'hang';
    const first = http.request('POST', '/slow').catch((e: unknown) => e);
    const refused = await failure(http.request('POST', '/charge'));
    assert.equal(refused.reason, 'saturated');
    assert.equal(refused.outcomeUnknown, false);
    await first;
    await http.close();
  });

  test('a dependency nobody listens on is unreachable: known not to have taken effect', async () => {
    const http = dependency({ baseUrl: 'http://127.0.0.1:9' });
    const error = await failure(http.request('POST', '/charge'));
    assert.equal(error.reason, 'unreachable');
    assert.equal(error.outcomeUnknown, false);
    await http.close();
  });

  test('every call is counted by outcome and timed', async () => {
    const metrics = new PlatformMetrics('test');
    const http = dependency({ metrics, maxConcurrent: 1 });
    const count = (outcome: string) =>
      metrics.valueOf('dependency_calls_total', { dependency: 'gateway', outcome });
    behaviour = 'declined';
    await http.request('POST', '/charge');
    behaviour = 'hang';
    const hung = http.request('POST', '/charge').catch(() => {});
    await failure(http.request('POST', '/charge'));
    await hung;
    behaviour = 'error';
    await failure(http.request('POST', '/charge'));
    await failure(http.request('POST', '/charge'));
    await failure(http.request('POST', '/charge'));
    assert.deepEqual(
      await Promise.all(
        ['success', 'timeout', 'rejected_bulkhead', 'failure', 'rejected_breaker'].map(count),
      ),
      [1, 1, 1, 2, 1],
    );
    const text = await metrics.scrape();
    assert.match(text, /^dependency_call_duration_seconds_count\{service="test",dependency="gateway"\} 6$/m);
    await http.close();
  });

  test('every request sent is timed under the semantic conventions; a call refused before sending is not', async () => {
    const metrics = new PlatformMetrics('test');
    const http = dependency({ metrics, maxConcurrent: 1 });
    await http.request('GET', '/');
    behaviour = 'declined';
    await http.request('POST', '/charge');
    behaviour = 'hang';
    const hung = http.request('POST', '/charge').catch(() => {});
    await failure(http.request('POST', '/charge')); // refused by the bulkhead, never sent
    await hung;
    behaviour = 'error';
    // After the timeout, two 5xx open the breaker (three in a row): the third call is refused, never sent.
    for (let i = 0; i < 3; i++) await failure(http.request('POST', '/charge'));
    const unreachable = dependency({ metrics, name: 'nobody', baseUrl: 'http://127.0.0.1:9' });
    await failure(unreachable.request('POST', '/charge'));
    const counts = parsePrometheusText(await metrics.scrape())
      .filter((s) => s.name === 'http_client_request_duration_seconds_count')
      .map(({ labels: { service, ...labels }, value }) => [labels, value]);
    const port = String(new URL(baseUrl).port);
    const sent = { server_address: '127.0.0.1', server_port: port };
    assert.deepEqual(counts, [
      [{ http_request_method: 'GET', ...sent, http_response_status_code: '200' }, 1],
      [{ http_request_method: 'POST', ...sent, http_response_status_code: '402', error_type: '402' }, 1],
      [{ http_request_method: 'POST', ...sent, error_type: 'timeout' }, 1],
      [{ http_request_method: 'POST', ...sent, http_response_status_code: '500', error_type: '500' }, 2],
      [
        {
          http_request_method: 'POST',
          server_address: '127.0.0.1',
          server_port: '9',
          error_type: 'unreachable',
        },
        1,
      ],
    ]);
    assert.equal(calls, 5, 'the server saw the requests counted, and only those');
    await http.close();
    await unreachable.close();
  });

  test('a call made inside a trace carries it as traceparent; one made outside carries none', async () => {
    const http = dependency();
    const incoming = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    const trace = startTrace('GET', { carrier: incoming });
    await runInTrace(trace, () => http.request('GET', '/stock'));
    await http.request('GET', '/stock');
    // Parented by the work's own span, in the caller's trace, its sampled flag kept.
    const { trace_id, span_id } = traceFields(trace.span);
    assert.equal(traceparents[0], `00-${trace_id}-${span_id}-01`);
    assert.equal(trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(traceparents[1], undefined);
    await http.close();
  });
});
