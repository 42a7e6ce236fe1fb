import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnose } from './diagnose.ts';
import type { BalancerConfig } from './edgeDiagnosis.ts';
import { LogEvidence } from './LogEvidence.ts';
import { renderText } from './renderText.ts';
import { LINE_REASONS, type TriageReport } from './report.ts';
import { terminalSafe } from './terminalSafe.ts';

// The edge alone: HAProxy's lines and the instances' lines as they are written, joined in memory.
const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A balancer line as HAProxy prints it: local wall time, `zoneMs` ahead of UTC. */
function balancer(
  at: number,
  o: { server?: string; status?: number; state?: string; total?: number; id?: string; path?: string },
  zoneMs = 0,
): string {
  const d = new Date(at + zoneMs);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
  const total = o.total ?? 20;
  const response = (o.state ?? '----').startsWith('-') ? total : -1;
  return `127.0.0.1:40000 [${date}] checkout checkout/${o.server ?? 'checkout-1'} 0/0/0/${response}/${total} ${o.status ?? 201} 300 ${o.state ?? '----'} 1/1/0/0/0 0/0 "POST ${o.path ?? '/api/checkout/complete'} HTTP/1.1"${o.id ? ` id=${o.id}` : ''}`;
}

function instance(at: number, o: { id: string; status?: number; durationMs?: number }): string {
  return JSON.stringify({
    time: new Date(at).toISOString(),
    service: 'checkout',
    msg: 'request_completed',
    endpoint: 'POST /api/checkout/complete',
    requestId: o.id,
    statusCode: o.status ?? 201,
    durationMs: o.durationMs ?? 20,
  });
}

const started = (budgetMs?: number) =>
  JSON.stringify({
    time: new Date(T0 - 60_000).toISOString(),
    service: 'checkout',
    msg: 'service_started',
    event: 'service_started',
    ...(budgetMs ? { checkoutBudgetMs: budgetMs } : {}),
  });

function triage(files: Record<string, string[]>, balancerConfig?: BalancerConfig): TriageReport {
  const logs = new LogEvidence();
  for (const [file, lines] of Object.entries(files))
    for (const [i, line] of lines.entries()) logs.add(file, i + 1, line);
  return diagnose({
    logs,
    resources: [],
    findings: [],
    now: new Date(T0 + 3_600_000),
    ...(balancerConfig ? { balancerConfig } : {}),
    read: {
      logFiles: Object.keys(files),
      logLines: logs.lines,
      metrics: [],
      health: [],
      unreachable: [],
      sources: Object.keys(files).map((source) => ({
        kind: 'logs' as const,
        source,
        state: 'read' as const,
      })),
      passedOver: logs.passedOver,
      timedOut: false,
    },
  });
}

/** Ten good requests, then `late` checkouts the balancer cut at 1 s while the instance answered 201 at 1.5 s. */
function timeoutCase(late: number, budgetMs?: number, zoneMs = 0) {
  const instanceLines = [started(budgetMs)];
  const balancerLines: string[] = [];
  for (let i = 0; i < 10; i++) {
    instanceLines.push(instance(T0 + i * 100 + 20, { id: `ok-${i}` }));
    balancerLines.push(balancer(T0 + i * 100, { id: `ok-${i}` }, zoneMs));
  }
  for (let i = 0; i < late; i++) {
    const at = T0 + 5000 + i * 100;
    instanceLines.push(instance(at + 1500, { id: `late-${i}`, status: 201, durationMs: 1500 }));
    balancerLines.push(balancer(at, { id: `late-${i}`, status: 504, state: 'sH--', total: 1000 }, zoneMs));
  }
  return { instanceLines, balancerLines };
}

test('a 504 HAProxy made while the instance answered 201 late: the timeout below the budget, named', () => {
  const { instanceLines, balancerLines } = timeoutCase(5, 14_000);
  const config: BalancerConfig = { file: 'haproxy.cfg', state: 'read', timeoutServerMs: 1000, line: 22 };
  const report = triage({ 'checkout-1.log': instanceLines, 'haproxy.log': balancerLines }, config);
  assert.equal(report.status, 'problem');
  assert.equal(report.cause?.category, 'misconfiguration');
  assert.equal(report.cause?.kind, 'balancer_timeout');
  assert.match(
    report.headline,
    /HAProxy answered 504 \(sH\) itself to 5 request\(s\) the instances never failed/,
  );
  assert.match(
    report.headline,
    /'timeout server' \(1\.0 s, haproxy\.cfg:22\) is below the service's budget of 14\.0 s/,
  );
  assert.match(report.cause?.evidence[0]?.line ?? '', /answered 5 of them 201, after HAProxy had given up/);
  assert.equal(report.when.failures, 5, "the client's 5xx, though no instance logged one");
  assert.equal(report.when.firstFailure, new Date(T0 + 5000).toISOString());
  assert.deepEqual(report.when.endpoints, { 'POST /api/checkout/complete': 5 });
  assert.equal(report.advice?.runbook, 'docs/runbooks.md#balancer5xx');
  assert.match(report.advice?.fix ?? '', /HAPROXY_TIMEOUT_SERVER/);
  assert.equal(report.edge?.joined, 15);
  assert.deepEqual(report.edge?.statusesDiffer, { '504/201': 5 });
});

test('the same lines in the other order (the balancer log read first) join the same', () => {
  const { instanceLines, balancerLines } = timeoutCase(5, 14_000);
  const report = triage({ 'haproxy.log': balancerLines, 'checkout-1.log': instanceLines });
  assert.equal(report.cause?.kind, 'balancer_timeout');
  assert.equal(report.edge?.joined, 15);
  assert.match(report.headline, /'timeout server' \(1\.0 s, from its timers\)/);
});

test('without the budget in the logs, the finding says so from the timers alone', () => {
  const { instanceLines, balancerLines } = timeoutCase(3);
  const report = triage({ 'checkout-1.log': instanceLines, 'haproxy.log': balancerLines });
  assert.equal(report.cause?.kind, 'balancer_timeout');
  assert.match(
    report.headline,
    /the service's budget is not in its logs: from the timers alone, HAProxy waits 1\.0 s/,
  );
});

test("HAProxy's local time without a zone: the joined lines tell it, the failure is dated in UTC", () => {
  const twoHours = 2 * 3_600_000;
  const { instanceLines, balancerLines } = timeoutCase(4, 14_000, twoHours);
  const report = triage({ 'checkout-1.log': instanceLines, 'haproxy.log': balancerLines });
  assert.equal(report.edge?.zoneOffsetMinutes, -120);
  assert.equal(report.when.firstFailure, new Date(T0 + 5000).toISOString());
});

test("an instance that stops while HAProxy's lines to it go on: frozen or dead, named", () => {
  const lines: Record<string, string[]> = { 'checkout-1.log': [], 'checkout-2.log': [], 'haproxy.log': [] };
  for (let i = 0; i < 40; i++) {
    const at = T0 + i * 100;
    const server = i % 2 ? 'checkout-2' : 'checkout-1';
    const frozen = server === 'checkout-2' && i >= 20;
    lines['haproxy.log']?.push(
      balancer(
        at,
        frozen ? { server, id: `r-${i}`, status: 504, state: 'sH--', total: 5000 } : { server, id: `r-${i}` },
      ),
    );
    if (!frozen) lines[`${server}.log`]?.push(instance(at + 20, { id: `r-${i}` }));
  }
  const report = triage(lines);
  assert.equal(report.cause?.kind, 'instance_unresponsive', report.headline);
  assert.equal(report.cause?.subject, 'checkout-2');
  assert.equal(report.cause?.count, 10);
  assert.match(report.cause?.summary ?? '', /checkout-2 stopped answering/);
  assert.ok(!report.symptoms.some((s) => s.kind === 'balancer_5xx'), 'its 504s are the same finding');
});

test('the same 504s with no log of that instance read: HAProxy made them, the instance side unknown', () => {
  const balancerLines = [
    balancer(T0, { server: 'checkout-1', id: 'a' }),
    balancer(T0 + 100, { server: 'checkout-9', id: 'b', status: 504, state: 'sH--', total: 5000 }),
  ];
  const report = triage({ 'checkout-1.log': [instance(T0 + 20, { id: 'a' })], 'haproxy.log': balancerLines });
  assert.equal(report.cause?.kind, 'balancer_5xx', report.headline);
  assert.equal(report.edge?.failuresByKind.server_timeout?.instances.unknown, 1);
  assert.ok(!report.symptoms.some((s) => s.kind === 'instance_unresponsive'));
});

test('no server: HAProxy answered 503 itself, no instance saw the requests', () => {
  const balancerLines = [balancer(T0, { id: 'a' })];
  for (let i = 0; i < 5; i++)
    balancerLines.push(
      balancer(T0 + 1000 + i, { server: '<NOSRV>', id: `n-${i}`, status: 503, state: 'SC--', total: 0 }),
    );
  const report = triage({ 'checkout-1.log': [instance(T0 + 20, { id: 'a' })], 'haproxy.log': balancerLines });
  assert.equal(report.cause?.category, 'dependency_failure');
  assert.equal(report.cause?.kind, 'no_server');
  assert.match(report.headline, /no checkout instance to send 5 request\(s\) to/);
  assert.equal(report.when.failures, 5);
});

test('shed at the edge: HAProxy refused checkouts itself past the admission limit, an overload', () => {
  const balancerLines = [balancer(T0, { id: 'a' })];
  // As HAProxy logs its `http-request return`: no server, answered locally (L) while reading the request.
  for (let i = 0; i < 5; i++)
    balancerLines.push(
      balancer(T0 + 1000 + i, { server: '<NOSRV>', id: `s-${i}`, status: 503, state: 'LR--', total: 0 }),
    );
  const report = triage({ 'checkout-1.log': [instance(T0 + 20, { id: 'a' })], 'haproxy.log': balancerLines });
  assert.equal(report.cause?.category, 'overload', report.headline);
  assert.equal(report.cause?.kind, 'shed_at_edge');
  assert.match(report.headline, /HAProxy refused 5 checkout\(s\) itself/);
  assert.equal(report.edge?.failuresByKind.shed_at_edge?.count, 5);
  assert.ok(!report.edge?.failuresByKind.no_server, 'not a backend without servers');
});

test("the instance's own 5xx passed on by HAProxy is not the balancer's: the instance's cause decides", () => {
  const report = triage({
    'checkout-1.log': [instance(T0 + 20, { id: 'a', status: 503 })],
    'haproxy.log': [balancer(T0, { id: 'a', status: 503 })],
  });
  assert.equal(report.edge?.madeByBalancer, 0);
  assert.equal(report.edge?.statusesAgree, 1);
  assert.ok(!report.cause?.kind.startsWith('balancer'));
  assert.equal(report.when.failures, 1, 'counted once, not once per log');
});

test('balancer lines alone are evidence of traffic: healthy, not unknown', () => {
  const report = triage({ 'haproxy.log': [balancer(T0, { id: 'a' }), balancer(T0 + 5, { id: 'b' })] });
  assert.equal(report.status, 'healthy', report.headline);
  assert.equal(report.when.requests, 2);
});

test('a balancer line with a field out of range is passed over as bad_field, counted', () => {
  const report = triage({ 'haproxy.log': [balancer(T0, { id: 'a' }).replace(' 201 ', ' 701 ')] });
  assert.equal(report.read.passedOver.reasons.bad_field, 1);
  assert.ok(LINE_REASONS.includes('bad_field'));
  assert.match(report.read.passedOver.samples[0]?.detail ?? '', /^status:/);
});

test('hostile balancer lines: escapes, prototype names, a flood of ids: bounded, nothing raw', () => {
  const lines = [balancer(T0, { id: 'a' })];
  lines.push(
    balancer(T0 + 1, { server: '__proto__', id: '__proto__', status: 504, state: 'sH--', total: 5000 }),
    balancer(T0 + 2, {
      server: 'constructor',
      id: 'x',
      status: 502,
      state: 'SH--',
      path: '/\u001b]0;pwned\u0007',
    }),
  );
  // More ids waiting for an instance line than the join holds: the oldest are let go, and said so.
  for (let i = 0; i < 60_000; i++) lines.push(balancer(T0 + 10 + i, { id: `flood-${i}` }));
  const report = triage({ 'haproxy.log': lines });
  assert.equal(report.status, 'problem');
  assert.equal(report.edge?.joinHorizonReached, true);
  const servers = report.edge?.failuresByKind.server_timeout?.servers ?? {};
  assert.equal(Object.getOwnPropertyDescriptor(servers, '__proto__')?.value, 1, 'a name, not a prototype');
  const text = renderText(report, { color: false });
  for (const line of text.split('\n')) assert.equal(terminalSafe(line), line, 'no raw control character');
});

test("HAProxy's log alone: its own 504s named from the timers, the instances' side not claimed", () => {
  const lines = [balancer(T0, { id: 'a' })];
  for (let i = 0; i < 4; i++)
    lines.push(balancer(T0 + 100 * i, { id: `t-${i}`, status: 504, state: 'sH--', total: 1000 }));
  const report = triage({ 'haproxy.log': lines });
  assert.equal(report.cause?.kind, 'balancer_5xx', report.headline);
  assert.match(
    report.headline,
    /HAProxy timed out waiting for an instance \(1\.0 s\) and answered 504 \(sH\) to 4 request\(s\)/,
  );
  assert.equal(
    report.edge?.failuresByKind.server_timeout?.instances.unknown,
    4,
    'no instance log: unknown, not unseen',
  );
  assert.equal(report.when.failures, 4);
});
