import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DoctorReport } from '../src/doctor/report.ts';
import { HaproxyAdmin } from '../src/stack/HaproxyAdmin.ts';
import { runCli } from './support/processes.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// `steadfast doctor` against a real stack: two instances behind the real HAProxy, the embedded
// PostgreSQL's own limits, HAProxy's view of its servers over its admin socket.
describe('steadfast doctor on a running stack with HAProxy', () => {
  let stack: TestStack;
  // The cadence the stack's HAProxy runs with; the doctor is given the same environment, as in a deploy.
  const CADENCE = { HAPROXY_CHECK_INTER: '500ms', HAPROXY_CHECK_FALL: '2' };
  const admin = () => new HaproxyAdmin(join(stack.dataDir, 'haproxy', 'admin.sock'), 'checkout');

  before(async () => {
    stack = await startTestStack({ HAPROXY_STATS_PORT: '0', ...CADENCE }, ['--instances', '2']);
    await eventually(
      async () => Object.values(await admin().servers()).every((s) => s.status === 'UP'),
      20_000,
      'both instances UP behind HAProxy',
    );
  });
  after(() => stack?.stop());

  /** The doctor as an operator runs it next to the stack: its settings from the stack, none of the test's. */
  const doctor = async (env: Record<string, string> = {}) => {
    const run = await runCli(
      ['doctor', '--format', 'json'],
      { STEADFAST_DATA_DIR: stack.dataDir, ...CADENCE, ...env },
      { unset: (name) => name === 'DATABASE_URL' || name.startsWith('HAPROXY_') || name.startsWith('DB_') },
    );
    return { ...run, report: JSON.parse(run.stdout) as DoctorReport };
  };

  test('clean: every source read (PostgreSQL, the stack, HAProxy), every check passed, exit 0', async () => {
    const { code, report, stderr } = await doctor();
    assert.equal(code, 0, `${JSON.stringify(report, null, 2)}\n${stderr}`);
    assert.deepEqual(
      report.read.map((r) => [r.source, r.state]),
      [
        ['stack', 'read'],
        ['haproxy_config', 'read'],
        ['settings', 'read'],
        ['postgres', 'read'],
        ['balancer', 'read'],
      ],
    );
    assert.deepEqual(
      report.checks.map((c) => c.state),
      ['passed', 'passed', 'passed', 'passed', 'passed'],
    );
    // 2 instances × (10 + 1) and the two sandboxes' pools on the same server, against the server's own limit.
    assert.match(
      report.checks.find((c) => c.check === 'connections')?.detail ?? '',
      /= 44 ≤ max_connections 200 /,
    );
  });

  test('an instance HAProxy holds in maintenance is a finding naming it, and how to put it back', async () => {
    await admin().setState('checkout-2', 'maint');
    try {
      const { code, report } = await doctor();
      assert.equal(code, 1);
      assert.deepEqual(
        report.findings.map((f) => [f.code, f.setting]),
        [['instance_not_up', 'server checkout-2']],
      );
      assert.match(report.findings[0]?.fix ?? '', /set server checkout\/checkout-2 state ready/);
    } finally {
      await admin().setState('checkout-2', 'ready');
      // Out of maintenance it is back once its checks pass again: the next test expects it UP.
      await admin().waitFor('checkout-2', (s) => s.status === 'UP', 20_000, 'UP');
    }
  });

  test('pools past what the real server allows, and a drain shorter than the real cadence: each a finding', async () => {
    const { code, report } = await doctor({ DB_POOL_MAX: '60', SHUTDOWN_DRAIN_DELAY_MS: '500' });
    assert.equal(code, 1);
    assert.deepEqual(report.findings.map((f) => f.code).sort(), [
      'connections_over_limit',
      'drain_shorter_than_detection',
    ]);
  });

  test('PostgreSQL that does not answer: said so, the check skipped, the rest still checked', async () => {
    const { code, report } = await doctor({
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/checkout',
      DB_CONNECT_TIMEOUT_MS: '500',
    });
    assert.equal(code, 0, JSON.stringify(report, null, 2));
    assert.equal(report.read.find((r) => r.source === 'postgres')?.state, 'unavailable');
    assert.equal(report.checks.find((c) => c.check === 'connections')?.state, 'skipped');
  });

  test("the instances' service_started line carries the hash of their configuration", async () => {
    const started = (await stack.log('checkout-1')).find((l) => l.msg === 'service_started');
    assert.match(String(started?.configHash), /^[0-9a-f]{16}$/);
  });
});
