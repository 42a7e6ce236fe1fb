import assert from 'node:assert/strict';
import { test } from 'node:test';
import Value from 'typebox/value';
import { deployMarkers } from './deploys.ts';
import { diagnose, type Gathered } from './diagnose.ts';
import { LogEvidence } from './LogEvidence.ts';
import { renderText } from './renderText.ts';
import { TriageReport } from './report.ts';

const at = (second: number) => new Date(Date.UTC(2026, 10, 30, 10, 0, second)).toISOString();

const started = (second: number, fields: Record<string, unknown>) =>
  JSON.stringify({
    level: 'info',
    time: at(second),
    service: 'checkout',
    version: '1.4.0',
    commit: 'aaa111',
    msg: 'service_started',
    event: 'service_started',
    ...fields,
  });

const failed = (second: number) =>
  JSON.stringify({
    level: 'error',
    time: at(second),
    service: 'checkout',
    version: '1.4.0',
    commit: 'aaa111',
    msg: 'Cannot read properties of undefined',
    errorId: `ERR-${second}`,
    errorClass: 'TypeError',
    stack: 'TypeError: x\n    at f (/srv/app/src/checkout/orders/orderRoutes.ts:9:1)',
    endpoint: 'GET /api/orders/:orderId',
    statusCode: 500,
  });

const completed = (second: number, statusCode: number) =>
  JSON.stringify({
    level: statusCode >= 500 ? 'error' : 'info',
    time: at(second),
    service: 'checkout',
    msg: 'request_completed',
    endpoint: 'GET /api/orders/:orderId',
    statusCode,
  });

function evidenceOf(lines: string[]): LogEvidence {
  const logs = new LogEvidence();
  for (const [index, line] of lines.entries()) logs.add('checkout.log', index + 1, line);
  return logs;
}

function diagnosed(logs: LogEvidence) {
  const gathered: Gathered = {
    logs,
    resources: [],
    findings: [],
    now: new Date(at(59)),
    read: {
      logFiles: ['checkout.log'],
      logLines: logs.lines,
      metrics: [],
      health: [],
      unreachable: [],
      sources: [{ kind: 'logs', source: 'checkout.log', state: 'read', lines: logs.lines }],
      passedOver: logs.passedOver,
      timedOut: false,
    },
  };
  return diagnose(gathered);
}

/** Traffic answered well, a restart at second 20, then the 5xx of a bug from second 21 on. */
function afterRestart(restart: Record<string, unknown>): string[] {
  const lines = [started(0, { configHash: 'c0nf1a' })];
  for (let s = 1; s < 20; s++) lines.push(completed(s, 200));
  lines.push(started(20, restart));
  for (let s = 21; s < 30; s++) lines.push(failed(s), completed(s, 500));
  return lines;
}

test('same version, another configHash: a configuration change, told from a deploy in the finding and the JSON', () => {
  const report = diagnosed(evidenceOf(afterRestart({ configHash: 'c0nf1b' })));
  assert.ok(Value.Check(TriageReport, report), 'the report matches its published schema');
  assert.equal(report.cause?.category, 'bad_deployment');
  assert.match(
    report.cause?.summary ?? '',
    /since a configuration change of checkout at 2026-11-30T10:00:20\.000Z \(configHash c0nf1a → c0nf1b, same version 1\.4\.0\+aaa111\)$/,
  );
  assert.doesNotMatch(report.cause?.summary ?? '', /deploy of/);
  assert.deepEqual(report.when.deploy, {
    service: 'checkout',
    time: at(20),
    version: '1.4.0',
    commit: 'aaa111',
    previousVersion: '1.4.0',
    previousCommit: 'aaa111',
    configHash: { previous: 'c0nf1a', current: 'c0nf1b' },
  });
  assert.ok(report.when.shape.includes('after_deploy'));
  assert.match(renderText(report, { color: false }), /follows a configuration change of checkout at /);
});

test('another commit: a deploy of that build, its configHash change said beside it', () => {
  const report = diagnosed(evidenceOf(afterRestart({ commit: 'bbb222', configHash: 'c0nf1b' })));
  assert.ok(Value.Check(TriageReport, report));
  assert.match(
    report.cause?.summary ?? '',
    /since the deploy of checkout 1\.4\.0\+bbb222 \(was 1\.4\.0\+aaa111; configHash c0nf1a → c0nf1b\) at 2026-11-30T10:00:20\.000Z$/,
  );
  assert.equal(report.when.deploy?.commit, 'bbb222');
});

test('a restart with the same build and settings, or a start that logged no hash, marks no change', () => {
  for (const restart of [{ configHash: 'c0nf1a' }, {}]) {
    const logs = evidenceOf(afterRestart(restart));
    assert.deepEqual(deployMarkers(logs.starts), [], JSON.stringify(restart));
    const report = diagnosed(logs);
    assert.equal(report.when.deploy, undefined);
    assert.equal(report.cause?.category, 'unhandled_exception');
  }
});

test('each service is compared with its own previous start, whatever starts between them', () => {
  const logs = evidenceOf([
    started(0, { configHash: 'c0nf1a' }),
    started(1, { service: 'inventory', configHash: 'inv1' }),
    started(2, { configHash: 'c0nf1a' }),
    started(3, { service: 'inventory', configHash: 'inv2' }),
  ]);
  const markers = deployMarkers(logs.starts).map((m) => m.marker);
  assert.deepEqual(
    markers.map((m) => [m.service, m.configHash]),
    [['inventory', { previous: 'inv1', current: 'inv2' }]],
  );
});

test('a configHash that is not a string is a line passed over, never a marker', () => {
  const logs = evidenceOf([started(0, { configHash: 'c0nf1a' }), started(1, { configHash: { x: 1 } })]);
  assert.equal(logs.passedOver.total, 1);
  assert.deepEqual(deployMarkers(logs.starts), []);
});

test("a configHash is the log's text: shown with its control characters escaped, never run by the terminal", () => {
  const report = diagnosed(evidenceOf(afterRestart({ configHash: '\u001b]0;HEALTHY\u0007\u001b[2J' })));
  assert.equal(report.when.deploy?.configHash?.current, '\u001b]0;HEALTHY\u0007\u001b[2J');
  const text = renderText(report, { color: false });
  assert.ok(!text.includes('\u001b'), 'no raw escape reaches the terminal');
  assert.match(text, /configHash c0nf1a → \\x1b\]0;HEALTHY\\x07\\x1b\[2J, same version/);
});
