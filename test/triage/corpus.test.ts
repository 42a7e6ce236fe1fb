import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Value from 'typebox/value';
import { diagnose } from '../../src/triage/diagnose.ts';
import { gather } from '../../src/triage/gather.ts';
import { type Category, TriageReport } from '../../src/triage/report.ts';

// Each scenario was recorded from the real stack by recordCorpus.ts; what triage must conclude from it
// is stated here, from what the recorder did, never from what triage said.
const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));

interface Expected {
  category: Category | 'healthy';
  /** The cause's kind and subject: which dependency, resource or setting. */
  cause?: { kind: string; subject?: string };
  /** `<errorClass>` or `<errorClass>@<frame file>` of the largest exception group. */
  topGroup?: string;
  shape?: string;
}

// Once a breaker opens, most 5xx are its fast refusals: the largest group, as in an error tracker.
const BREAKER = 'BrokenCircuitError@src/platform/dependency/HttpDependency.ts';
const DB_CLIENT = 'Error@src/platform/database/Database.ts';
const DB_SERVER = 'DatabaseError@src/platform/database/Database.ts';
const dependency = (subject: string, topGroup = BREAKER): Expected => ({
  category: 'dependency_failure',
  cause: { kind: 'dependency', subject },
  topGroup,
});
const database = (topGroup: string): Expected => ({
  category: 'database_failure',
  cause: { kind: 'database', subject: 'database' },
  topGroup,
});
const exhausted = (kind: string): Expected => ({
  category: 'resource_exhaustion',
  cause: { kind, subject: 'database' },
  topGroup: DB_SERVER,
});
const bug = (category: Category, file: string, shape: string): Expected => ({
  category,
  cause: { kind: 'exception', subject: 'TypeError' },
  topGroup: `TypeError@${file}`,
  shape,
});

const EXPECTED: Record<string, Expected> = {
  healthy: { category: 'healthy' },
  'payment-5xx': dependency('paymentGateway'),
  'payment-hang': dependency('paymentGateway'),
  'inventory-reset': dependency('inventoryService'),
  'inventory-down': dependency('inventoryService'),
  'postgres-stopped': database(DB_CLIENT),
  'postgres-hung': database(DB_CLIENT),
  'pool-slow-statements': exhausted('slow_statements'),
  'postgres-connections-used-up': exhausted('db_connections'),
  // Most connections die at accept, unanswered; the calls the instance makes fail before they leave.
  'file-descriptors-exhausted': {
    category: 'resource_exhaustion',
    cause: { kind: 'file_descriptors', subject: 'file descriptors' },
    topGroup: 'Error',
  },
  'overload-in-flight': { category: 'overload', cause: { kind: 'overload' }, shape: 'rising_with_load' },
  'overload-event-loop': {
    category: 'overload',
    cause: { kind: 'overload' },
    shape: 'rising_with_load',
    // The database bulkhead's refusals, the pool being the first thing the load used up.
    topGroup: 'BulkheadRejectedError@src/platform/database/Database.ts',
  },
  'bug-orders-endpoint': bug('unhandled_exception', 'src/checkout/orders/orderRoutes.ts', 'since_start'),
  'bug-add-item-endpoint': bug('unhandled_exception', 'src/checkout/carts/cartRoutes.ts', 'since_start'),
  'deploy-bug': bug('bad_deployment', 'src/checkout/orders/orderRoutes.ts', 'after_deploy'),
  'deploy-schema-mismatch': {
    category: 'bad_deployment',
    cause: { kind: 'schema_mismatch', subject: 'checkout' },
    topGroup: DB_SERVER,
    shape: 'after_deploy',
  },
  'wrong-payment-url': {
    category: 'misconfiguration',
    cause: { kind: 'config_mismatch', subject: 'paymentGateway' },
    topGroup: BREAKER,
  },
  'missing-secret': { category: 'misconfiguration', cause: { kind: 'startup_failure', subject: 'checkout' } },
  'mixed-postgres-hung-under-load': database(DB_CLIENT),
  'mixed-payment-hang-under-load': dependency('paymentGateway'),
};

/** How far the first failure triage names may be from the moment the recorder switched the fault on. */
const FIRST_FAILURE_SLACK_MS = 5000;

async function triageOf(scenario: string) {
  const dir = join(CORPUS, scenario);
  const metrics = (await readdir(join(dir, 'metrics'))).map((name) => join(dir, 'metrics', name));
  const report = diagnose(await gather({ logs: [join(dir, 'logs')], metrics, health: [] }));
  const recorded = JSON.parse(await readFile(join(dir, 'scenario.json'), 'utf8')) as { faultAt: string };
  return { report, faultAt: Date.parse(recorded.faultAt) };
}

describe('triage names the cause of every recorded scenario', async () => {
  const recorded = (await readdir(CORPUS)).sort();

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
      const { report, faultAt } = await triageOf(scenario);
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
});
