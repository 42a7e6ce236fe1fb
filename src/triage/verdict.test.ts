import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogEvidence } from './LogEvidence.ts';
import type { SourceRead, TriageReport } from './report.ts';
import { verdict } from './verdict.ts';

const TIME = '2026-11-30T10:00:00.000Z';

function logsWith(requests: number, status = 200): LogEvidence {
  const logs = new LogEvidence();
  for (let i = 0; i < requests; i++)
    logs.add(
      'c.log',
      i + 1,
      JSON.stringify({
        time: TIME,
        service: 'checkout',
        msg: 'request_completed',
        statusCode: status,
        endpoint: 'GET /x',
      }),
    );
  return logs;
}

function readOf(logs: LogEvidence, sources: SourceRead[], timedOut = false): TriageReport['read'] {
  return {
    logFiles: [],
    logLines: logs.lines,
    metrics: [],
    health: [],
    unreachable: sources.filter((s) => s.state === 'unreachable').map((s) => s.source),
    sources,
    passedOver: logs.passedOver,
    timedOut,
  };
}

const LOG: SourceRead = { kind: 'logs', source: 'logs/checkout.log', state: 'read', lines: 3 };
const METRICS = 'http://127.0.0.1:1/metrics';
const HEALTH = 'http://127.0.0.1:1/health';
const down = (source: string, kind: 'metrics' | 'health'): SourceRead => ({
  kind,
  source,
  state: 'unreachable',
  reason: 'no_answer',
  detail: 'ECONNREFUSED',
});
const up = (source: string, kind: 'metrics' | 'health'): SourceRead => ({ kind, source, state: 'read' });
const CAUSE = { category: 'dependency_failure' as const, summary: 'paymentGateway is failing' };

test('no evidence is UNKNOWN, never HEALTHY: nothing given answered, nothing was read', () => {
  const none = new LogEvidence();
  const nobody = verdict(
    undefined,
    none,
    readOf(none, [down(METRICS, 'metrics'), down(HEALTH, 'health')]),
    undefined,
  );
  assert.equal(nobody.status, 'unknown');
  assert.match(
    nobody.headline,
    /^UNKNOWN: none of the 2 live sources answered: the stack may be down; not read: http/,
  );
  const empty = verdict(undefined, none, readOf(none, [{ ...LOG, lines: 0 }]), undefined);
  assert.equal(empty.status, 'unknown');
  assert.match(empty.headline, /^UNKNOWN: no evidence: no log lines read, and no metrics or health read/);
});

test('a log of zero requests is not HEALTHY on its own; with a live answer it is', () => {
  const logs = new LogEvidence();
  logs.add('c.log', 1, JSON.stringify({ time: TIME, msg: 'service_started', event: 'service_started' }));
  assert.equal(verdict(undefined, logs, readOf(logs, [LOG]), undefined).status, 'unknown');
  const live = verdict(undefined, logs, readOf(logs, [LOG, up(HEALTH, 'health')]), undefined);
  assert.equal(live.status, 'healthy');
  assert.match(live.headline, /^HEALTHY: no requests in the logs read, nothing exhausted, no breaker open$/);
});

test('logs read, every live source silent: the stack may be down, so UNKNOWN; a problem in the logs is still a PROBLEM', () => {
  const logs = logsWith(5);
  const sources = [LOG, down(METRICS, 'metrics'), down(HEALTH, 'health')];
  const quiet = verdict(undefined, logs, readOf(logs, sources), undefined);
  assert.equal(quiet.status, 'unknown');
  assert.match(quiet.headline, /the stack may be down \(its logs: no 5xx in 5 requests\)/);
  const failing = verdict(CAUSE, logsWith(5, 503), readOf(logs, sources), Date.parse(TIME));
  assert.equal(failing.status, 'problem');
  assert.match(
    failing.headline,
    /^PROBLEM: dependency failure: paymentGateway is failing since .*; not read: http:\/\/127\.0\.0\.1:1\/metrics \(unreachable: no_answer\)/,
  );
});

test('a source that did not answer while others did is named in the headline of a HEALTHY verdict', () => {
  const logs = logsWith(5);
  const result = verdict(
    undefined,
    logs,
    readOf(logs, [LOG, up(METRICS, 'metrics'), down(HEALTH, 'health')]),
    undefined,
  );
  assert.equal(result.status, 'healthy');
  assert.equal(
    result.headline,
    'HEALTHY: no 5xx in 5 requests, nothing exhausted, no breaker open; not read: http://127.0.0.1:1/health (unreachable: no_answer)',
  );
});

test('the timeout before everything was read is UNKNOWN unless a problem was already found; lines passed over are counted', () => {
  const logs = logsWith(5);
  logs.add('c.log', 9, 'not json');
  const partial: SourceRead = { ...LOG, state: 'partial', reason: 'timeout' };
  const timedOut = verdict(undefined, logs, readOf(logs, [partial], true), undefined);
  assert.equal(timedOut.status, 'unknown');
  assert.match(
    timedOut.headline,
    /^UNKNOWN: timed out before everything was read \(no 5xx in 5 requests so far\); not read: logs\/checkout\.log \(partial: timeout\); 1 log line\(s\) passed over$/,
  );
  assert.equal(verdict(CAUSE, logs, readOf(logs, [partial], true), undefined).status, 'problem');
});
