import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, test } from 'node:test';
import Value from 'typebox/value';
import { TriageReport } from '../../src/triage/report.ts';
import { CORPUS, EXPECTED, type Row, row, table, triageScenario } from './evaluation.ts';

// Each scenario was recorded from the real stack by recordCorpus.ts; what triage must conclude from it
// is stated in evaluation.ts, from what the recorder did, never from what triage said.

/** How far the first failure triage names may be from the moment the recorder switched the fault on. */
const FIRST_FAILURE_SLACK_MS = 5000;

describe('triage names the cause of every recorded scenario', async () => {
  const recorded = (await readdir(CORPUS)).sort();
  const rows: Row[] = [];

  test('the corpus holds every scenario, each category in at least two forms', () => {
    assert.deepEqual(recorded, Object.keys(EXPECTED).sort());
    const forms = new Map<string, number>();
    for (const expected of Object.values(EXPECTED))
      forms.set(expected.category, (forms.get(expected.category) ?? 0) + 1);
    for (const [category, count] of forms)
      if (category !== 'healthy') assert.ok(count >= 2, `${category}: ${count} form(s)`);
    assert.ok(Object.keys(EXPECTED).filter((name) => name.startsWith('mixed-')).length >= 2);
  });

  for (const [scenario, expected] of Object.entries(EXPECTED)) {
    test(`${scenario}: ${expected.category}${expected.cause?.subject ? ` (${expected.cause.subject})` : ''}`, async () => {
      const { report, faultAt, ms } = await triageScenario(scenario);
      rows.push(row(scenario, expected, report, ms));
      assert.ok(Value.Check(TriageReport, report), 'the report matches its published schema');
      const verdict = `${report.headline}\n${report.symptoms.map((s) => `  - ${s.summary}`).join('\n')}`;
      if (expected.category === 'healthy') {
        assert.equal(report.status, 'healthy', verdict);
        assert.equal(report.cause, null);
        assert.equal(report.when.failures, 0);
        return;
      }
      assert.equal(report.status, 'problem');
      assert.equal(report.cause?.category, expected.category, verdict);
      assert.equal(report.cause?.kind, expected.cause?.kind, verdict);
      if (expected.cause?.subject) assert.equal(report.cause?.subject, expected.cause.subject, verdict);
      assert.ok(report.cause?.evidence.length, 'the cause shows the lines that decided it');
      const first = Date.parse(report.when.firstFailure ?? '');
      assert.ok(
        Math.abs(first - faultAt) <= FIRST_FAILURE_SLACK_MS,
        `first failure ${report.when.firstFailure}, fault switched on ${new Date(faultAt).toISOString()}`,
      );
      if (expected.shape)
        assert.ok(report.when.shape.includes(expected.shape as never), report.when.shape.join());
      if (expected.topGroup) {
        const [errorClass, file] = expected.topGroup.split('@');
        const top = report.exceptionGroups[0];
        assert.equal(top?.errorClass, errorClass, JSON.stringify(report.exceptionGroups.slice(0, 2)));
        if (file) assert.ok(top?.frame.startsWith(`${file}:`), String(top?.frame));
        assert.ok(top?.sampleErrorIds.every((id) => id.startsWith('ERR-')));
      }
      assert.ok(report.advice?.fix && report.advice.runbook.startsWith('docs/runbooks.md#'));
    });
  }

  // The edge: what the join by request id found, as the recorder made it happen.
  test('balancer-timeout-below-budget: 504s HAProxy made while the instances worked on, the setting named', async () => {
    const { report } = await triageScenario('balancer-timeout-below-budget');
    const timeout = report.edge?.failuresByKind.server_timeout;
    assert.ok(timeout && timeout.count >= 5, JSON.stringify(report.edge));
    assert.equal(
      timeout.instances.answered + timeout.instances.abandoned,
      timeout.count,
      'every one seen by an instance',
    );
    assert.equal(report.edge?.budgetMs, 14_000, "the budget from the instances' service_started");
    assert.equal(
      report.edge?.config?.timeoutServerMs,
      1000,
      'HAPROXY_TIMEOUT_SERVER=1s in the recorded config',
    );
    assert.match(
      report.headline,
      /HAProxy answered 504 \(sH\) itself to \d+ request\(s\) the instances never failed/,
    );
    assert.match(
      report.headline,
      /'timeout server' \(1\.0 s, haproxy\.cfg:\d+\) is below the service's budget of 14\.0 s/,
    );
    assert.equal(report.exceptionGroups.length, 0, 'the application logged no exception');
  });

  test('balancer-no-server: every 503 made by HAProxy, no instance saw one, the drain named', async () => {
    const { report } = await triageScenario('balancer-no-server');
    const none = report.edge?.failuresByKind.no_server;
    assert.ok(none && none.count >= 5);
    assert.equal(none.instances.unseen + none.instances.unknown, none.count);
    assert.match(report.cause?.summary ?? '', /checkout-1, checkout-2 set to drain/);
    assert.ok(report.cause?.evidence.some((e) => /enters drain state/.test(e.line)));
  });

  test("balancer-instance-frozen: the stopped instance named, HAProxy's DOWN as evidence", async () => {
    const { report } = await triageScenario('balancer-instance-frozen');
    assert.ok(report.cause?.evidence.some((e) => /Server checkout\/checkout-2 is DOWN/.test(e.line)));
    const frozen = report.edge?.servers.find((s) => s.name === 'checkout-2');
    assert.ok(frozen && frozen.unseen >= 1, JSON.stringify(report.edge?.servers));
    assert.ok(report.edge?.servers.filter((s) => s.name !== 'checkout-2').every((s) => s.unseen === 0));
  });

  // The evaluation table (docs/triage.md): every verdict right, each in well under the time a person takes.
  test('the evaluation: every scenario right', () => {
    assert.equal(rows.length, Object.keys(EXPECTED).length, 'every scenario triaged');
    if (process.env.PRINT_TRIAGE_EVALUATION) process.stdout.write(table(rows));
    assert.deepEqual(
      rows.filter((r) => !r.right).map((r) => `${r.scenario}: expected ${r.expected}, got ${r.verdict}`),
      [],
    );
  });
});
