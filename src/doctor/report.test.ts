import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DOCTOR_EXIT, runDoctor } from './doctorCommand.ts';
import { DoctorReport } from './report.ts';

// The published schema of `steadfast doctor --format json` is the TypeBox schema the command checks its
// own output against, written out; UPDATE_SCHEMA=1 rewrites it after a change (and schemaVersion with it).
const PUBLISHED = new URL('../../docs/doctor-report.schema.json', import.meta.url);

test('docs/doctor-report.schema.json is the schema the command holds its output to', async () => {
  const current = JSON.parse(JSON.stringify(DoctorReport));
  if (process.env.UPDATE_SCHEMA) await writeFile(PUBLISHED, `${JSON.stringify(current, null, 2)}\n`);
  assert.deepEqual(
    JSON.parse(await readFile(PUBLISHED, 'utf8')),
    current,
    'stale: run UPDATE_SCHEMA=1 node --test src/doctor/report.test.ts',
  );
});

/** runDoctor with its output kept. */
async function doctor(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runDoctor(
    args,
    { STEADFAST_DATA_DIR: '/nonexistent-steadfast', ...env },
    {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
    },
  );
  return { code, stdout, stderr };
}

test('bad usage is exit 2 with the usage, before anything is read', async () => {
  for (const args of [
    ['--format', 'yaml'],
    ['--instances', '0'],
    ['--instances', '1e3'],
    ['--bogus'],
    ['stray'],
  ]) {
    const { code, stderr } = await doctor(args);
    assert.equal(code, DOCTOR_EXIT.usage, args.join(' '));
    assert.match(stderr, /Usage: steadfast doctor/);
  }
  const missing = await doctor(['--haproxy-config', '/nonexistent/haproxy.cfg']);
  assert.equal(missing.code, DOCTOR_EXIT.usage);
  assert.match(missing.stderr, /cannot read \/nonexistent\/haproxy.cfg: ENOENT/);
});

test('a file that is no HAProxy configuration (a README, an empty file) is bad usage, never clean', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-doctor-'));
  try {
    const empty = join(dir, 'empty.cfg');
    await writeFile(empty, '');
    // A README given by mistake: a heading (a comment to HAProxy), then prose outside any section.
    const readme = join(dir, 'README.md');
    await writeFile(readme, '# Steadfast\n\nA checkout service that tells the truth when it fails.\n');
    for (const [file, why] of [
      [readme, /README\.md is not a HAProxy configuration: line 3 \('A'\) is in no section/],
      [empty, /empty\.cfg is not a HAProxy configuration: it has no section/],
    ] as const) {
      const { code, stdout, stderr } = await doctor(['--haproxy-config', file, '--format', 'json']);
      assert.equal(code, DOCTOR_EXIT.usage, stderr);
      assert.match(stderr, why);
      assert.match(stderr, /Usage: steadfast doctor/);
      assert.equal(stdout, '', 'no report: nothing was checked');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--format json: the shipped configuration is clean, exit 0, and says what it could not read', async () => {
  const { code, stdout } = await doctor(['--format', 'json']);
  const report = JSON.parse(stdout) as DoctorReport;
  assert.equal(code, DOCTOR_EXIT.clean, stdout);
  assert.equal(report.status, 'clean');
  assert.deepEqual(
    report.read.filter((r) => r.state === 'unavailable').map((r) => r.source),
    ['stack', 'postgres', 'balancer'],
  );
  assert.equal(report.checks.find((c) => c.check === 'connections')?.state, 'skipped');
});

test('findings are exit 1; a setting the service would refuse is one, and no other check runs on it', async () => {
  const drained = await doctor(['--format', 'json'], { SHUTDOWN_DRAIN_DELAY_MS: '100' });
  assert.equal(drained.code, DOCTOR_EXIT.findings);
  assert.deepEqual(
    (JSON.parse(drained.stdout) as DoctorReport).findings.map((f) => f.code),
    ['drain_shorter_than_detection'],
  );
  const invalid = await doctor([], { DB_POOL_MAX: 'ten', JWT_SECRET: 'short' });
  assert.equal(invalid.code, DOCTOR_EXIT.findings);
  assert.match(invalid.stdout, /FINDING setting_invalid: .*'DB_POOL_MAX'/);
  assert.match(invalid.stdout, /FINDING setting_invalid: .*'JWT_SECRET'/);
  assert.doesNotMatch(invalid.stdout, /short/, 'never the value given: it may be a secret');
});
