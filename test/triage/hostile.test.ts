import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { freePort } from '../../src/stack/freePort.ts';
import {
  addOddEntries,
  assertNoCrash,
  assertReport,
  assertTerminalSafe,
  runTriageChild,
  withTempDir,
} from './untrusted.ts';

// Triage given the evidence an outside tester gave it: a stack it cannot see, logs of every hostile
// shape, escape sequences that any user can put in a log line, input that never ends. Each run is the
// real CLI in its own process, its peak memory measured by the kernel.
const HEALTHY_LOG = fileURLToPath(new URL('./corpus/healthy/logs/checkout.log.gz', import.meta.url));
const SCENARIO = fileURLToPath(new URL('./corpus/payment-5xx/logs/', import.meta.url));
/** A Node process with triage loaded holds about 100 MiB; what a run reads must not add much to that. */
const PEAK_RSS_MB = 250;

test('a stack it cannot see is UNKNOWN (exit 3), never healthy: each source named as unreachable', async () => {
  const nobody = `http://127.0.0.1:${await freePort()}`;
  const sources = ['--metrics', `${nobody}/metrics`, '--health', `${nobody}/health`];
  const text = await runTriageChild(sources);
  assert.equal(text.code, 3, text.stderr);
  assert.match(
    text.stdout,
    /^UNKNOWN: none of the 2 live sources answered: the stack may be down; not read: /,
  );
  assert.match(
    text.stdout.split('\n')[0] as string,
    new RegExp(`${nobody}/metrics \\(unreachable: no_answer\\)`),
  );
  const json = await runTriageChild([...sources, '--format', 'json']);
  const report = assertReport(json.stdout, json.code);
  assert.deepEqual(
    (report.read.sources as { state: string }[]).map((s) => s.state),
    ['unreachable', 'unreachable'],
  );
  // The logs of a stack that stopped answering are history: no 5xx then does not make it healthy now.
  const logsOnly = await runTriageChild(['--logs', HEALTHY_LOG, ...sources]);
  assert.equal(logsOnly.code, 3, logsOnly.stdout);
  assert.match(logsOnly.stdout, /the stack may be down \(its logs: no 5xx in \d+ requests\)/);
});

test('a logs directory of every hostile shape: each odd entry skipped with its reason, bombs cut, memory flat', () =>
  withTempDir(async (dir) => {
    await copyFile(HEALTHY_LOG, join(dir, 'checkout.log.gz'));
    await addOddEntries(dir);
    await writeFile(
      join(dir, 'long.log'),
      `{"time":"2026-11-30T10:00:00Z","msg":"${'x'.repeat(50 * 2 ** 20)}"}\n`,
    );
    await writeFile(join(dir, 'line-bomb.1.log.gz'), gzipSync(Buffer.alloc(64 * 2 ** 20, 'x')));
    await writeFile(join(dir, 'newline-bomb.1.log.gz'), gzipSync(Buffer.alloc(64 * 2 ** 20, '\n')));
    const odd = [
      '{"time":1e20,"msg":"request_completed","statusCode":500}',
      '{"time":"2026-11-30T10:00:00Z","msg":"request_completed","statusCode":500.5}',
      '{"time":"2026-11-30T10:00:00Z","msg":"request_completed","statusCode":"503"}',
      '{"time":"2026-11-30T10:00:00Z","msg":"request_completed","statusCode":503,"refusalsNotLogged":1e400}',
      `{"time":"2026-11-30T10:00:00Z","msg":"x","deep":${'['.repeat(500_000)}${']'.repeat(500_000)}}`,
    ];
    await writeFile(join(dir, 'odd.log'), `${odd.join('\n')}\n`);
    const run = await runTriageChild(['--logs', dir, '--format', 'json', '--max-decompressed', '8m']);
    assert.equal(run.stderr, '');
    const report = assertReport(run.stdout, run.code);
    assert.equal(run.code, 0, report.headline);
    const states = Object.fromEntries(
      (report.read.sources as { source: string; state: string; reason?: string }[]).map((s) => [
        s.source.split('/').pop(),
        `${s.state}${s.reason ? ` ${s.reason}` : ''}`,
      ]),
    );
    assert.deepEqual(states, {
      'checkout.log.gz': 'read',
      'corrupt.1.log.gz': 'unreadable corrupt',
      'dangling.log': 'skipped dangling_link',
      'fifo.log': 'skipped not_a_file',
      'folder.log': 'skipped not_a_file',
      'line-bomb.1.log.gz': 'partial decompressed_limit',
      'long.log': 'read',
      'loop.log': 'skipped link_loop',
      'newline-bomb.1.log.gz': 'partial decompressed_limit',
      'odd.log': 'read',
      'zero.log': 'skipped not_a_file',
    });
    const reasons = (report.read.passedOver as { reasons: Record<string, number> }).reasons;
    assert.equal(reasons.too_long, 1, 'the 50 MB line; the bomb of one line is cut before its end');
    assert.equal(reasons.bad_time, 1);
    assert.equal(reasons.bad_field, 3);
    assert.match(
      report.headline,
      /^HEALTHY: no 5xx in \d+ requests; not read: .* and \d+ more; \d+ log line\(s\) passed over$/,
    );
    assert.ok(run.peakRssMb < PEAK_RSS_MB, `peak RSS ${run.peakRssMb} MiB`);
    assert.ok(run.ms < 30_000, `${run.ms} ms`);
    const text = await runTriageChild(['--logs', dir, '--max-decompressed', '8m']);
    assert.equal(text.code, 0);
    assertTerminalSafe(text.stdout);
    assert.match(text.stdout, /fifo\.log: skipped \(not_a_file\): a FIFO/);
  }));

test("a log's escape sequences reach the terminal escaped, in the report and in --error-id; the JSON keeps them", () =>
  withTempDir(async (dir) => {
    const hostile = '\u001b]0;pwned\u0007\u001b[2J\u001b[32mHEALTHY\u001b[0m\u202eevil\u009b31m\r';
    const error = {
      time: '2026-11-30T10:00:01.000Z',
      level: 'error',
      service: 'checkout',
      msg: `boom ${hostile}`,
      errorId: 'ERR-hostile',
      errorClass: `Type${hostile}Error`,
      stack: `TypeError: boom\n    at f (/srv/src/checkout/x${hostile}.ts:1:1)\n    at g (/srv/src/checkout/y.ts:2:3)`,
      endpoint: `GET /${hostile}`,
      userId: `usr_${hostile}`,
      statusCode: 500,
      requestId: 'req-1',
    };
    const request = { ...error, msg: 'request_completed', stack: undefined };
    const started = {
      time: '2026-11-30T10:00:00.000Z',
      service: 'checkout',
      msg: 'request_completed',
      endpoint: `GET /${hostile}`,
      statusCode: 200,
    };
    await writeFile(
      join(dir, 'checkout.log'),
      [started, error, request].map((l) => JSON.stringify(l)).join('\n'),
    );
    const text = await runTriageChild(['--logs', dir]);
    assert.equal(text.code, 1, text.stderr);
    assertTerminalSafe(text.stdout);
    assert.match(
      text.stdout,
      /Type\\x1b\]0;pwned\\x07\\x1b\[2J\\x1b\[32mHEALTHY\\x1b\[0m\\u202eevil\\x9b31m\\x0dError/,
    );
    const lookup = await runTriageChild(['--logs', dir, '--error-id', 'ERR-hostile']);
    assert.equal(lookup.code, 0, lookup.stderr);
    assertTerminalSafe(lookup.stdout);
    assert.match(lookup.stdout, /userId: usr_\\x1b/);
    const json = await runTriageChild(['--logs', dir, '--format', 'json']);
    const report = assertReport(json.stdout, json.code) as unknown as {
      exceptionGroups: { errorClass: string }[];
    };
    assert.equal(
      report.exceptionGroups[0]?.errorClass,
      `Type${hostile}Error`,
      'JSON escaping keeps the value',
    );
    assertTerminalSafe(json.stdout);
  }));

test('input that never ends: the --timeout ends the run, says so, and the verdict is UNKNOWN', async () => {
  const run = await runTriageChild(['--logs', '-', '--timeout', '2s', '--format', 'json'], {
    stdin: 'open',
    killAfterMs: 20_000,
  });
  assertNoCrash(run.stderr);
  const report = assertReport(run.stdout, run.code);
  assert.equal(run.code, 3);
  assert.equal(report.read.timedOut, true);
  assert.match(report.headline, /^UNKNOWN: timed out before everything was read/);
  assert.ok(run.ms > 1900 && run.ms < 10_000, `${run.ms} ms`);
});

test('a saved scrape of +Inf, NaN and huge values is read, passed over where it says nothing; the logs still decide', () =>
  withTempDir(async (dir) => {
    const scrape = join(dir, 'odd.prom');
    await writeFile(
      scrape,
      'db_pool_connections{state="active"} +Inf\ndb_pool_max_connections NaN\nprocess_open_fds 1e400\nprocess_max_fds 1024\nprocess_start_time_seconds 1e308\nhttp_requests_shed_total{reason="x"} -Inf\n',
    );
    const run = await runTriageChild(['--logs', SCENARIO, '--metrics', scrape, '--format', 'json']);
    assert.equal(run.stderr, '');
    const report = assertReport(run.stdout, run.code) as unknown as {
      cause: { subject: string };
      read: { sources: { kind: string; state: string; samples?: number }[] };
    };
    assert.equal(run.code, 1);
    assert.equal(report.cause.subject, 'paymentGateway');
    assert.deepEqual(
      report.read.sources.filter((s) => s.kind === 'metrics').map((s) => [s.state, s.samples]),
      [['read', 1]],
      'one usable sample of six',
    );
  }));
