/**
 * Triage's evaluation: every recorded scenario of the corpus, what triage must conclude from it (stated
 * from what the recorder did, never from what triage said), triage's verdict, right or wrong, and how
 * long it took. Shared by corpus.test.ts (a wrong verdict fails it) and `npm run triage:evaluate`
 * (which prints the table published in docs/triage.md).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diagnose } from '../../src/triage/diagnose.ts';
import { gather } from '../../src/triage/gather.ts';
import type { Category, TriageReport } from '../../src/triage/report.ts';

export const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));

export interface Expected {
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

export const EXPECTED: Record<string, Expected> = {
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
  // The instance sheds for its heap and lives on: the scrape names the heap, the 503s are its refusals.
  'memory-heap-exhausted': {
    category: 'resource_exhaustion',
    cause: { kind: 'memory', subject: 'heap' },
  },
  // No request fails: the log file's writes do, said on standard output, and the scrape's free bytes.
  'disk-full': { category: 'resource_exhaustion', cause: { kind: 'disk', subject: 'disk logs' } },
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
  // The edge: 5xx HAProxy made itself, that no instance logged.
  'balancer-timeout-below-budget': {
    category: 'misconfiguration',
    cause: { kind: 'balancer_timeout', subject: 'timeout server' },
  },
  'balancer-no-server': { category: 'dependency_failure', cause: { kind: 'no_server', subject: 'HAProxy' } },
  'balancer-instance-frozen': {
    category: 'dependency_failure',
    cause: { kind: 'instance_unresponsive', subject: 'checkout-2' },
  },
};

/** Triage on one recorded scenario, as the command runs it on saved files, and how long it took. */
export async function triageScenario(scenario: string) {
  const dir = join(CORPUS, scenario);
  const metrics = (await readdir(join(dir, 'metrics'))).map((name) => join(dir, 'metrics', name));
  const recorded = JSON.parse(await readFile(join(dir, 'scenario.json'), 'utf8')) as {
    faultAt: string;
    env: Record<string, string>;
  };
  const config = join(dir, 'config', 'haproxy.cfg');
  const started = performance.now();
  const report = diagnose(
    await gather({
      logs: [join(dir, 'logs')],
      metrics,
      health: [],
      // HAProxy read its "${NAME-default}" values from the environment the recorder gave the stack.
      ...(existsSync(config) ? { haproxyConfig: config, haproxyEnv: recorded.env } : {}),
    }),
  );
  return { report, faultAt: Date.parse(recorded.faultAt), ms: performance.now() - started };
}

/** The verdict in the table's words: `healthy`, or `<category>: <kind> (<subject>)`. */
export function verdictOf(report: Pick<TriageReport, 'status' | 'cause'>): string {
  if (!report.cause) return report.status;
  return `${report.cause.category}: ${report.cause.kind}${report.cause.subject ? ` (${report.cause.subject})` : ''}`;
}

export function expectedVerdict(expected: Expected): string {
  if (expected.category === 'healthy') return 'healthy';
  return `${expected.category}: ${expected.cause?.kind}${expected.cause?.subject ? ` (${expected.cause.subject})` : ''}`;
}

/** Right when the category, the cause's kind and (when stated) its subject are the expected ones. */
export function isRight(expected: Expected, report: Pick<TriageReport, 'status' | 'cause'>): boolean {
  if (expected.category === 'healthy') return report.status === 'healthy' && report.cause === null;
  return (
    report.status === 'problem' &&
    report.cause?.category === expected.category &&
    report.cause.kind === expected.cause?.kind &&
    (expected.cause?.subject === undefined || report.cause.subject === expected.cause.subject)
  );
}

export interface Row {
  scenario: string;
  expected: string;
  verdict: string;
  right: boolean;
  ms: number;
}

export function row(scenario: string, expected: Expected, report: TriageReport, ms: number): Row {
  return {
    scenario,
    expected: expectedVerdict(expected),
    verdict: verdictOf(report),
    right: isRight(expected, report),
    ms,
  };
}

/** The table as docs/triage.md publishes it (Markdown), with the share right last. */
export function table(rows: Row[]): string {
  const lines = [
    '| scenario | expected cause | triage says | right | time to verdict (ms) |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.expected} | ${r.verdict} | ${r.right ? 'yes' : '**no**'} | ${Math.round(r.ms)} |`,
    ),
  ];
  const right = rows.filter((r) => r.right).length;
  return `${lines.join('\n')}\n\n${right} of ${rows.length} right (${Math.round((100 * right) / (rows.length || 1))} %).\n`;
}
