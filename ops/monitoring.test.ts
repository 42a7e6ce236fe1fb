import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

// The shipped monitoring configuration, checked by the tools of Prometheus and Alertmanager themselves.
const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const RULES = path('./prometheus/rules/steadfast.rules.yml');
const RULE_TESTS = path('./prometheus/rules/steadfast.rules.test.yml');
const ALERTMANAGER = path('./alertmanager/alertmanager.yml');
const RUNBOOKS = path('../docs/runbooks.md');

/** The categories of the seed article's decision tree (docs/architecture.md section 1), as alert labels. */
const CATEGORIES = [
  'bad_deployment',
  'unhandled_exception',
  'misconfiguration',
  'resource_exhaustion',
  'database_failure',
  'dependency_failure',
  'overload',
];

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  assert.equal(
    result.error,
    undefined,
    `${command} must be installed (Debian: prometheus, prometheus-alertmanager)`,
  );
  return { code: result.status, output: result.stdout + result.stderr };
}

interface AlertRule {
  alert: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const alerts = (): AlertRule[] =>
  (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: (AlertRule & { record?: string })[] }[] }).groups
    .flatMap((group) => group.rules)
    .filter((rule) => rule.alert);

test('promtool accepts the rules', () => {
  const { code, output } = run('promtool', ['check', 'rules', RULES]);
  assert.equal(code, 0, output);
});

test('promtool test rules: every alert fires above its threshold and stays silent below it', () => {
  const { code, output } = run('promtool', ['test', 'rules', RULE_TESTS]);
  assert.equal(code, 0, output);
  const tests = parse(readFileSync(RULE_TESTS, 'utf8')) as {
    tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  const cases = tests.tests.flatMap((t) => t.alert_rule_test);
  for (const { alert } of alerts()) {
    assert.ok(
      cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0),
      `${alert} has a case where it fires`,
    );
  }
});

test('every alert has a severity, a decision-tree category, a summary naming it, and a runbook section', () => {
  const runbooks = readFileSync(RUNBOOKS, 'utf8');
  const anchors = new Set([...runbooks.matchAll(/^## (.+)$/gm)].map((m) => `#${m[1]?.toLowerCase()}`));
  assert.ok(alerts().length >= 14);
  for (const rule of alerts()) {
    assert.match(rule.labels.severity ?? '', /^(page|chat)$/, rule.alert);
    assert.ok(
      CATEGORIES.includes(rule.labels.category ?? ''),
      `${rule.alert}: category ${rule.labels.category}`,
    );
    const summary = rule.annotations.summary ?? '';
    const words = (rule.labels.category ?? '').split('_');
    assert.ok(
      words.every((word) => summary.includes(word)),
      `${rule.alert}: the summary names its category (${summary})`,
    );
    const [file, anchor] = (rule.annotations.runbook_url ?? '').split('#');
    assert.equal(file, 'docs/runbooks.md', rule.alert);
    assert.ok(anchors.has(`#${anchor}`), `${rule.alert}: docs/runbooks.md has a section #${anchor}`);
  }
});

test('amtool accepts the Alertmanager configuration', () => {
  const { code, output } = run('amtool', ['check-config', ALERTMANAGER]);
  assert.equal(code, 0, output);
});

test('pages and chat messages reach different receivers', () => {
  const route = (receiver: string, ...labels: string[]) => {
    const { code, output } = run('amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${ALERTMANAGER}`,
      `--verify.receivers=${receiver}`,
      ...labels,
    ]);
    assert.equal(code, 0, `${labels.join(' ')} → ${receiver}: ${output}`);
  };
  route('pager', 'alertname=DatabaseDown', 'severity=page', 'service=checkout');
  route('pager', 'alertname=CheckoutErrorRateHigh', 'severity=page', 'service=checkout');
  route('chat', 'alertname=DiskUsageHigh', 'severity=chat', 'service=checkout');
  route('chat', 'alertname=SomethingNew');
  for (const rule of alerts()) {
    route(
      rule.labels.severity === 'page' ? 'pager' : 'chat',
      `alertname=${rule.alert}`,
      `severity=${rule.labels.severity}`,
    );
  }
});

test('symptoms are inhibited by their cause: the database, an open breaker', () => {
  const config = parse(readFileSync(ALERTMANAGER, 'utf8')) as {
    inhibit_rules: { source_matchers: string[]; target_matchers: string[] }[];
  };
  const targetsOf = (source: string) =>
    config.inhibit_rules
      .filter((rule) => rule.source_matchers.includes(`alertname="${source}"`))
      .flatMap((rule) => rule.target_matchers.join(' '))
      .join(' ');
  for (const symptom of [
    'CheckoutErrorRateHigh',
    'ErrorRateHigh',
    'DbPoolUsageHigh',
    'DbPoolUsageCritical',
  ]) {
    assert.match(targetsOf('DatabaseDown'), new RegExp(`\\b${symptom}\\b`));
  }
  assert.match(targetsOf('CircuitBreakerOpen'), /\bCheckoutErrorRateHigh\b/);
  const names = new Set(alerts().map((a) => a.alert));
  for (const rule of config.inhibit_rules) {
    for (const name of rule.target_matchers.join('|').match(/[A-Z][A-Za-z0-9]+/g) ?? []) {
      assert.ok(names.has(name), `inhibition names an alert that exists: ${name}`);
    }
  }
});
