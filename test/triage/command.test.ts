import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import Value from 'typebox/value';
import { freePort } from '../../src/stack/freePort.ts';
import { TriageReport } from '../../src/triage/report.ts';
import { CLI, runCli } from '../support/processes.ts';

// `steadfast triage` as an operator runs it: exit codes, both formats, standard input, one error whole.
const SCENARIO = fileURLToPath(new URL('./corpus/payment-5xx/', import.meta.url));
const HEALTHY = fileURLToPath(new URL('./corpus/healthy/', import.meta.url));

test('exit 2 on bad usage, with the usage on stderr', async () => {
  for (const args of [
    ['--format', 'xml', '--logs', SCENARIO],
    ['--since', 'yesterday', '--logs', SCENARIO],
    ['--logs', join(SCENARIO, 'no-such-file.log')],
    ['--unknown'],
  ]) {
    const run = await runCli(['triage', ...args], {});
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /Usage: steadfast triage/);
  }
  const noStack = await runCli(['triage'], { STEADFAST_DATA_DIR: join(SCENARIO, 'nowhere') });
  assert.equal(noStack.code, 2);
  assert.match(noStack.stderr, /no local stack/);
});

test('exit 0 when healthy, 1 on a problem; text headline first, no colour off a TTY; JSON in its schema', async () => {
  const healthy = await runCli(['triage', '--logs', join(HEALTHY, 'logs')], {});
  assert.equal(healthy.code, 0, healthy.stderr);
  assert.match(healthy.stdout, /^HEALTHY: no 5xx/);
  const text = await runCli(
    ['triage', '--logs', join(SCENARIO, 'logs'), '--metrics', join(SCENARIO, 'metrics/checkout.prom')],
    {},
  );
  assert.equal(text.code, 1, text.stderr);
  assert.match(text.stdout, /^PROBLEM: dependency failure: paymentGateway/);
  assert.ok(!text.stdout.includes('\u001b['), 'no escape codes when stdout is not a terminal');
  for (const section of ['Cause', 'Symptoms', 'When', 'Exception groups', 'What to do']) {
    assert.match(text.stdout, new RegExp(`^${section}`, 'm'));
  }
  const json = await runCli(['triage', '--format', 'json', '--logs', join(SCENARIO, 'logs')], {});
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout);
  assert.ok(Value.Check(TriageReport, report));
  assert.equal(report.schemaVersion, 2);
  assert.equal(report.cause?.subject, 'paymentGateway');
});

test('a metrics or health source that does not answer is reported, not fatal', async () => {
  const nobody = `http://127.0.0.1:${await freePort()}`;
  const run = await runCli(
    [
      'triage',
      '--format',
      'json',
      '--logs',
      join(SCENARIO, 'logs'),
      '--metrics',
      `${nobody}/metrics`,
      '--health',
      `${nobody}/health`,
    ],
    {},
  );
  assert.equal(run.code, 1, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.deepEqual(report.read.unreachable, [`${nobody}/metrics`, `${nobody}/health`]);
  assert.equal(report.cause.subject, 'paymentGateway', 'the logs still decide');
});

test('--logs - reads standard input', async () => {
  const text = gunzipSync(await readFile(join(SCENARIO, 'logs/checkout.log.gz')));
  const child = spawn(process.execPath, [CLI, 'triage', '--logs', '-', '--format', 'json'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stdin.end(text);
  const [code] = await once(child, 'exit');
  assert.equal(code, 1);
  const report = JSON.parse(stdout);
  assert.deepEqual(report.read.logFiles, ['stdin']);
  assert.equal(report.cause.subject, 'paymentGateway');
});

test('--error-id shows one error whole, with the lines of its request and trace in every log', async () => {
  const json = await runCli(['triage', '--format', 'json', '--logs', join(SCENARIO, 'logs')], {});
  const errorId = JSON.parse(json.stdout).exceptionGroups.find(
    (g: { errorClass: string }) => g.errorClass === 'ServerErrorResponse',
  ).sampleErrorIds[0] as string;
  const lookup = await runCli(
    ['triage', '--format', 'json', '--error-id', errorId, '--logs', join(SCENARIO, 'logs')],
    {},
  );
  assert.equal(lookup.code, 0, lookup.stderr);
  const found = JSON.parse(lookup.stdout);
  assert.equal(found.error.record.errorId, errorId);
  assert.match(found.error.record.stack, /HttpDependency\.ts/);
  const services = new Set(found.related.map((l: { record: { service: string } }) => l.record.service));
  assert.deepEqual(
    [...services].sort(),
    ['checkout', 'inventory', 'payment-sandbox'],
    'the reservation and the charge of the same trace',
  );
  assert.ok(
    found.related.some(
      (l: { record: { msg: string; errorId?: string } }) =>
        l.record.msg === 'request_completed' && l.record.errorId === errorId,
    ),
    'its request line',
  );
  const text = await runCli(['triage', '--error-id', errorId, '--logs', join(SCENARIO, 'logs')], {});
  assert.match(text.stdout, new RegExp(`^${errorId} at checkout\\.log\\.gz:\\d+`));
  assert.match(text.stdout, /stack:\n {4}Error: paymentGateway answered 500/);
  const missing = await runCli(['triage', '--error-id', 'ERR-0-NOPE', '--logs', join(SCENARIO, 'logs')], {});
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /not found/);
});

// The seed article's interview question through the CLI: 5xx, health 200, no exception in the logs.
test("HAProxy's log and its configuration: the balancer's 504s named, the setting from the file read", async () => {
  const edge = fileURLToPath(new URL('./corpus/balancer-timeout-below-budget/', import.meta.url));
  const config = join(edge, 'config', 'haproxy.cfg');
  const run = await runCli(
    ['triage', '--logs', join(edge, 'logs'), '--haproxy-config', config, '--format', 'json'],
    { HAPROXY_TIMEOUT_SERVER: '1s' },
  );
  assert.equal(run.code, 1, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.ok(Value.Check(TriageReport, report));
  assert.equal(report.cause?.kind, 'balancer_timeout');
  assert.equal(report.edge?.config?.timeoutServerMs, 1000, "the file's placeholder, from the environment");
  // Without the environment HAProxy ran with, the file says 15 s: the timers tell what ran.
  const unset = await runCli(['triage', '--logs', join(edge, 'logs'), '--haproxy-config', config], {});
  assert.equal(unset.code, 1, unset.stderr);
  assert.match(unset.stdout, /^PROBLEM: misconfiguration: HAProxy answered 504 \(sH\) itself/);
  assert.match(unset.stdout, /the running HAProxy waited 1\.0 s, not the 15\.0 s of the file read/);
  assert.match(
    unset.stdout,
    /its 'timeout server' \(1\.0 s, from its timers\) is below the service's budget/,
  );
  const missing = await runCli(
    ['triage', '--logs', join(edge, 'logs'), '--haproxy-config', join(edge, 'nope.cfg')],
    {},
  );
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such HAProxy configuration/);
});
