import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogEvidence, projectFrame } from './LogEvidence.ts';

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    level: 'info',
    time: '2026-11-30T10:00:00.000Z',
    service: 'checkout',
    version: '1.0.0',
    ...fields,
  });

test('the top frame is the first in the project: not Node, not node_modules, from any checkout path', () => {
  const stack = [
    'TypeError: boom',
    '    at Object.run (node:internal/process/task_queues:104:5)',
    '    at Executor.invoke (file:///srv/app/node_modules/cockatiel/dist/common/Executor.js:38:27)',
    '    at OrderStore.find (file:///srv/app/src/checkout/orders/OrderStore.ts:42:11)',
    '    at file:///srv/app/src/checkout/app.ts:10:3',
  ].join('\n');
  assert.equal(projectFrame(stack), 'src/checkout/orders/OrderStore.ts:42');
  assert.equal(
    projectFrame('Error: x\n    at /opt/steadfast/src/platform/db.ts:7:1'),
    'src/platform/db.ts:7',
  );
  assert.equal(projectFrame('Error: x\n    at node:net:1:1'), undefined);
});

test('a 5xx line is sorted by what it points at: a dependency, the database, a resource, a bug', () => {
  const logs = new LogEvidence();
  const error = (fields: Record<string, unknown>) =>
    line({
      level: 'warn',
      errorId: 'ERR-1',
      errorClass: 'Error',
      stack: 'Error: x\n    at f (/a/src/x.ts:1:1)',
      ...fields,
    });
  logs.add('c.log', 1, error({ dependency: 'paymentGateway', reason: 'timeout', msg: 'timed out' }));
  logs.add('c.log', 2, error({ dependency: 'paymentGateway', reason: 'circuit_open', msg: 'open' }));
  logs.add('c.log', 3, error({ dependency: 'database', reason: 'saturated', msg: 'pool full' }));
  logs.add(
    'c.log',
    4,
    error({ dependency: 'database', reason: 'timeout', msg: 'canceling statement due to statement timeout' }),
  );
  logs.add(
    'c.log',
    5,
    error({ dependency: 'database', reason: 'unreachable', msg: 'connect ECONNREFUSED 127.0.0.1:5432' }),
  );
  logs.add('c.log', 6, error({ level: 'error', errorClass: 'error', msg: 'column "name" does not exist' }));
  logs.add(
    'c.log',
    7,
    error({ level: 'error', errorClass: 'TypeError', msg: 'Cannot read properties of undefined' }),
  );
  logs.add('c.log', 8, error({ level: 'error', errorClass: 'Error', msg: 'EMFILE: too many open files' }));
  logs.add(
    'p.log',
    1,
    line({
      service: 'payment-sandbox',
      msg: 'request_completed',
      statusCode: 500,
      endpoint: 'POST /v1/charges',
    }),
  );
  assert.deepEqual([...logs.signals.keys()].sort(), [
    'breaker_open:paymentGateway',
    'database:database',
    'dependency:paymentGateway',
    'exception:TypeError',
    'file_descriptors:file descriptors',
    'pool_saturated:database',
    'schema_mismatch:checkout',
    'slow_statements:database',
  ]);
  assert.equal(
    logs.signals.get('dependency:paymentGateway')?.count,
    2,
    'its own 5xx counts against the dependency',
  );
  assert.equal(logs.failures, 0, "a dependency's own 5xx is not the service's failure");
});

test('memory stays bounded by what is distinct: a million distinct exceptions keep 500 groups', () => {
  const logs = new LogEvidence();
  for (let i = 0; i < 2000; i++) {
    logs.add(
      'c.log',
      i,
      line({
        level: 'error',
        errorId: `ERR-${i}`,
        errorClass: 'TypeError',
        stack: `TypeError\n    at f (/a/src/f${i}.ts:1:1)`,
      }),
    );
  }
  assert.equal(logs.groups.size, 500);
  assert.equal(logs.signals.get('exception:TypeError')?.count, 2000, 'every error still counted');
  assert.equal(logs.signals.get('exception:TypeError')?.samples.length, 3);
});

test('refusals are sampled in the log: each sampled line counts the refusals it stands for', () => {
  const logs = new LogEvidence();
  logs.add(
    'c.log',
    1,
    line({
      msg: 'request_completed',
      statusCode: 503,
      error: 'SERVER_OVERLOADED',
      endpoint: 'POST /api/checkout/complete',
      refusalsNotLogged: 41,
    }),
  );
  assert.equal(logs.requests, 42);
  assert.equal(logs.failures, 42);
  assert.equal(logs.signals.get('overload:checkout')?.count, 42);
});

test('--since leaves older lines out, but not the service starts a deploy is told by', () => {
  const logs = new LogEvidence({ since: Date.parse('2026-11-30T11:00:00Z') });
  logs.add('c.log', 1, line({ msg: 'service_started', event: 'service_started', commit: 'a' }));
  logs.add('c.log', 2, line({ msg: 'request_completed', statusCode: 500, endpoint: 'GET /x' }));
  logs.add(
    'c.log',
    3,
    line({ time: '2026-11-30T11:00:01.000Z', msg: 'request_completed', statusCode: 200, endpoint: 'GET /x' }),
  );
  assert.equal(logs.starts.length, 1);
  assert.equal(logs.failures, 0);
  assert.equal(logs.requests, 1);
});

test('a line it cannot use is counted by why, with the first few shown; it changes no count', () => {
  const logs = new LogEvidence();
  logs.add('c.log', 1, 'plain text');
  logs.add('c.log', 2, line({ msg: 'request_completed', statusCode: 500.5, endpoint: 'GET /x' }));
  logs.add('c.log', 3, line({ msg: 'request_completed', statusCode: 500, refusalsNotLogged: 0.5 }));
  logs.add('c.log', 4, line({ time: 1e20, msg: 'request_completed', statusCode: 500 }));
  logs.cutLine('c.log', 5);
  logs.blankLines(1);
  assert.equal(logs.lines, 6);
  assert.equal(logs.requests, 0);
  assert.equal(logs.failures, 0);
  assert.deepEqual(logs.passedOver.reasons, {
    blank: 1,
    not_json: 1,
    too_long: 1,
    too_deep: 0,
    bad_time: 1,
    bad_field: 2,
  });
  assert.equal(logs.passedOver.total, 6);
  assert.deepEqual(
    logs.passedOver.samples.map((s) => s.at),
    ['c.log:1', 'c.log:2', 'c.log:3', 'c.log:4', 'c.log:5'],
    'blank lines are counted, not shown',
  );
});

test('text from a log is only ever a name: __proto__, constructor and toString change nothing', () => {
  const logs = new LogEvidence();
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    logs.add(
      'c.log',
      1,
      line({
        service: name,
        level: 'error',
        errorId: 'ERR-1',
        errorClass: name,
        dependency: name,
        reason: name,
        stack: 'Error\n    at f (/a/src/x.ts:1:1)',
      }),
    );
    logs.add('c.log', 2, line({ service: name, msg: 'request_completed', statusCode: 500, endpoint: name }));
  }
  assert.equal(logs.failures, 4, "no name is mistaken for a dependency's own service");
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    const signal = logs.signals.get(`dependency:${name}`);
    assert.equal(signal?.count, 1, name);
    assert.equal(signal?.reasons[name], 1, name);
  }
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
});

test('hostile logs cannot grow what is kept: distinct endpoints, kinds and huge fields are capped', () => {
  const logs = new LogEvidence();
  // Past every cap (1,000 distinct of each, 500 characters of text) with room to spare.
  const huge = 'x'.repeat(20_000);
  for (let i = 0; i < 1500; i++) {
    logs.add('c.log', i, line({ msg: 'request_completed', statusCode: 500, endpoint: `GET /${i}${huge}` }));
    logs.add(
      'c.log',
      i,
      line({ level: 'error', errorId: huge, errorClass: `E${i}${huge}`, dependency: `d${i}`, stack: huge }),
    );
  }
  assert.ok(logs.failuresByEndpoint.size <= 1001, String(logs.failuresByEndpoint.size));
  assert.equal(logs.failures, 1500, 'every failure still counted');
  assert.ok(logs.signals.size <= 1001, String(logs.signals.size));
  const kept = [...logs.failuresByEndpoint.keys()].reduce((total, key) => total + key.length, 0);
  assert.ok(kept < 1001 * 600, `endpoint text kept: ${kept}`);
  for (const group of logs.groups.values())
    assert.ok(group.errorClass.length <= 500 && group.message.length <= 500);
});

test('a stack line built to make a pattern backtrack is read in linear time', () => {
  const logs = new LogEvidence();
  const started = performance.now();
  const stack = `Error\n${`    at ${'src/a.tssrc/'.repeat(2000)}\n`.repeat(8)}    at ${'src/'.repeat(4000)}`;
  const message = `column ${'column '.repeat(2000)}`;
  for (let i = 0; i < 20; i++)
    logs.add('c.log', i, line({ level: 'error', errorId: 'ERR-1', errorClass: 'E', msg: message, stack }));
  assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
  assert.equal(logs.signals.get('exception:E')?.count, 20);
});

test("PostgreSQL's own log is read, not passed over: its warnings and worse join the templates", () => {
  const logs = new LogEvidence();
  const lines = [
    '2026-11-30 10:00:00.100 UTC [41] LOG:  database system is ready to accept connections',
    '2026-11-30 10:00:01.200 UTC [52] ERROR:  relation "carts" does not exist at character 15',
    '2026-11-30 10:00:01.200 UTC [52] STATEMENT:  SELECT * FROM carts',
    '\t  WHERE id = $1',
    '2026-11-30 10:00:02.300 UTC [53] FATAL:  sorry, too many clients already',
    '2026-11-30 10:00:02.300 CET [53] LOG:  a zone no reader can place',
    'Success. You can now start the database server using:',
  ];
  for (const [i, text] of lines.entries()) logs.add('postgres.log', i + 1, text);
  assert.deepEqual(
    logs.passedOver.samples.map(({ at, reason }) => `${at} ${reason}`),
    ['postgres.log:6 bad_time', 'postgres.log:7 not_json'],
  );
  const templates = logs.templates.all().map((t) => t.tokens.join(' '));
  assert.ok(
    templates.some((t) => t.startsWith('FATAL: sorry, too many clients')),
    templates.join(' | '),
  );
  assert.ok(
    templates.some((t) => t.startsWith('ERROR: relation')),
    templates.join(' | '),
  );
  assert.equal(templates.length, 2, 'LOG and STATEMENT lines are not warnings');
  // A tab-indented line outside a PostgreSQL log is no statement's.
  logs.add('other.log', 1, '\tindented');
  assert.equal(logs.passedOver.samples.at(-1)?.at, 'other.log:1');
});

test('runs that end by saying why are no abrupt stop; a run that just stops is, with its last line', () => {
  const logs = new LogEvidence();
  const at = (seconds: number) => new Date(Date.parse('2026-11-30T10:00:00Z') + seconds * 1000).toISOString();
  const lines = [
    line({ pid: 1, time: at(0), msg: 'service_started' }),
    line({ pid: 1, time: at(1), msg: 'request_completed', statusCode: 200, endpoint: 'GET /x' }),
    // Killed; restarted, its preflight refuses a setting; then a start that works, and a clean stop.
    line({ pid: 2, time: at(5), msg: 'startup_failure', problems: ['JWT_SECRET is required'] }),
    line({ pid: 3, time: at(9), msg: 'service_started' }),
    line({ pid: 3, time: at(12), msg: 'shutdown_complete', exitCode: 0 }),
    line({ pid: 4, time: at(20), msg: 'service_started' }),
  ];
  for (const [i, text] of lines.entries()) logs.add('checkout-2-2026-11-30.log', i + 1, text);
  const stops = logs.abruptStops.stops();
  assert.deepEqual(
    stops.map((s) => [s.instance, s.lastLine.at, s.restartedAt]),
    [['checkout-2', 'checkout-2-2026-11-30.log:2', Date.parse(at(5))]],
  );
});

test('a drain is no failure: SHUTTING_DOWN answers and an unready health check count as requests only', () => {
  const logs = new LogEvidence();
  const completed = (fields: Record<string, unknown>) =>
    line({ msg: 'request_completed', statusCode: 503, durationMs: 1, ...fields });
  logs.add('c.log', 1, completed({ endpoint: 'GET /health/ready' }));
  logs.add('c.log', 2, completed({ endpoint: 'POST /api/checkout/complete', error: 'SHUTTING_DOWN' }));
  logs.add('c.log', 3, completed({ endpoint: 'GET /healthy', error: 'INTERNAL_ERROR' }));
  assert.equal(logs.requests, 3);
  assert.equal(logs.failures, 1, 'only the 503 that is no planned refusal');
  assert.deepEqual([...logs.failuresByEndpoint.keys()], ['GET /healthy']);
});
