import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeState, looksLikeBalancerLine, parseBalancerLine, pathAsRoute } from './balancerLog.ts';

// Lines as HAProxy 2.6 wrote them with the shipped log-format (and the stats frontend's default httplog).
const TIMEOUT =
  '127.0.0.1:37034 [02/Dec/2026:16:52:38.193] checkout checkout/checkout-2 0/0/0/-1/1002 504 580 sH-- 7/7/3/1/0 0/0 "POST /api/checkout/complete HTTP/1.1" id=7F00000190AA824D6B104CD6018A1C84';
const NOSRV =
  '127.0.0.1:41000 [02/Dec/2026:16:52:40.001] checkout checkout/<NOSRV> 0/-1/-1/-1/0 503 216 SC-- 3/3/0/0/0 0/0 "POST /api/carts HTTP/1.1" id=req-1';
const STATS =
  '127.0.0.1:33588 [02/Dec/2026:16:52:32.986] stats stats/<STATS> 0/0/0/0/0 200 21318 - - LR-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"';

test('a line of the shipped log-format: every field read, the accept date as printed', () => {
  const parsed = parseBalancerLine(TIMEOUT);
  assert.ok('line' in parsed);
  const { line } = parsed;
  assert.equal(line.wallTime, Date.UTC(2026, 11, 2, 16, 52, 38, 193));
  assert.deepEqual(
    [line.frontend, line.backend, line.server, line.status, line.method, line.path],
    ['checkout', 'checkout', 'checkout-2', 504, 'POST', '/api/checkout/complete'],
  );
  assert.deepEqual(line.timers, { request: 0, queue: 0, connect: 0, response: -1, total: 1002 });
  assert.deepEqual(line.state, { cause: 's', phase: 'H' });
  assert.equal(line.requestId, '7F00000190AA824D6B104CD6018A1C84');
  assert.equal(
    describeState(line.state),
    "the server timed out ('timeout server') while waiting for the server's headers",
  );
});

test("no server, and HAProxy's default httplog line (no id)", () => {
  const nosrv = parseBalancerLine(NOSRV);
  assert.ok('line' in nosrv);
  assert.equal(nosrv.line.server, '<NOSRV>');
  assert.deepEqual(nosrv.line.state, { cause: 'S', phase: 'C' });
  const stats = parseBalancerLine(STATS);
  assert.ok('line' in stats);
  assert.equal(stats.line.requestId, undefined);
  assert.equal(stats.line.server, '<STATS>');
});

test('recognised by its shape: a JSON line, a startup failure or plain text is not one', () => {
  assert.ok(looksLikeBalancerLine(TIMEOUT));
  assert.ok(looksLikeBalancerLine('::1:5000 [02/Dec/2026:16:52:38.193] x'));
  for (const text of ['{"time":1}', 'STARTUP_FAILURE: x', '[NOTICE]   (1) : haproxy version is 2.6', 'hello'])
    assert.equal(looksLikeBalancerLine(text), false, text);
});

test('a field out of its range is bad_field, never half read', () => {
  const cases: [string, string][] = [
    [TIMEOUT.replace('504 580', '999 580'), 'status'],
    [TIMEOUT.replace('0/0/0/-1/1002', '0/0/0/-7/1002'), 'timers'],
    [TIMEOUT.replace('0/0/0/-1/1002', '0/0/0/1002'), 'timers'],
    [TIMEOUT.replace('0/0/0/-1/1002', `0/0/0/0/${'9'.repeat(30)}`), 'timers'],
    [TIMEOUT.replace('02/Dec/2026:16', '31/Feb/2026:16'), 'accept date'],
    [TIMEOUT.replace('02/Dec/2026:16', '02/Dez/2026:16'), 'accept date'],
    [TIMEOUT.replace('02/Dec/2026:16', '02/Dec/2026:26'), 'accept date'],
    [TIMEOUT.replace('sH--', 's\u001b--'), 'the line'],
    [TIMEOUT.replace('7/7/3/1/0', '7/7/3/1'), 'the line'],
    [`${TIMEOUT} trailing`, 'the line'],
    [TIMEOUT.replace('"POST', '"PO"ST'), 'the line'],
  ];
  for (const [text, field] of cases) {
    const parsed = parseBalancerLine(text);
    assert.ok('reason' in parsed, text);
    assert.equal(parsed.reason, 'bad_field');
    assert.ok(parsed.detail.startsWith(`${field}:`), `${parsed.detail} (${text})`);
  }
});

test('an id that is not an instance id is not joined on; a huge request line costs its length', () => {
  const odd = parseBalancerLine(TIMEOUT.replace(/id=\S+$/, 'id=a#22b<script>'));
  assert.ok('line' in odd);
  assert.equal(odd.line.requestId, undefined);
  const dash = parseBalancerLine(TIMEOUT.replace(/id=\S+$/, 'id=-'));
  assert.ok('line' in dash && dash.line.requestId === undefined);
  const started = performance.now();
  const long = parseBalancerLine(TIMEOUT.replace('/api/checkout/complete', `/${'a/'.repeat(400_000)}`));
  assert.ok('reason' in long, 'a request line past 8 KiB is not this format');
  assert.ok(performance.now() - started < 200, 'linear, not backtracking');
});

test('a path as a route: segments with a digit are ids, the query left out', () => {
  assert.equal(pathAsRoute('/api/carts/cf1e2a05-28f5/items?x=1'), '/api/carts/:id/items');
  assert.equal(pathAsRoute('/api/orders/ord_9'), '/api/orders/:id');
});
