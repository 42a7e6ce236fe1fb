import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

/** Runs `script` (an ES module) in a process of its own and reads its standard output's JSON lines. */
function linesOf(script: string): Record<string, unknown>[] {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('a log file on a full disk does not take the service down: its lines go on to stdout, which says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-log-'));
  try {
    // /dev/full answers every write with ENOSPC, as a filled disk does; the logger's first file is this link.
    await symlink('/dev/full', join(dir, 'app.1.log'));
    const script = `
      const { createLogger } = await import(${JSON.stringify(new URL('./createLogger.ts', import.meta.url).href)});
      const log = await createLogger({ service: 's', version: '1', commit: 'c', level: 'info',
        file: { path: ${JSON.stringify(join(dir, 'app.log'))}, maxSize: '1m', retention: 2 } });
      for (let i = 0; i < 3; i++) log.info('before ' + i);
      setTimeout(() => log.info('after'), 200);
      setTimeout(() => log.info('later'), 400);`;
    const lines = linesOf(script) as { msg: string; level: string; errorClass?: string }[];
    assert.deepEqual(
      lines.map((l) => l.msg).filter((m) => m !== 'log_file_write_failed'),
      ['before 0', 'before 1', 'before 2', 'after', 'later'],
    );
    const failures = lines.filter((l) => l.msg === 'log_file_write_failed');
    assert.equal(failures.length, 1, 'said once, not once a line');
    assert.equal(failures[0]?.errorClass, 'ENOSPC');
    assert.equal(failures[0]?.level, 'error');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a log file is the owner's to write and its group's to read, no one else's", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-log-'));
  try {
    const script = `
      const { createLogger } = await import(${JSON.stringify(new URL('./createLogger.ts', import.meta.url).href)});
      const log = await createLogger({ service: 's', version: '1', commit: 'c', level: 'info',
        file: { path: ${JSON.stringify(join(dir, 'app.log'))}, maxSize: '1m', retention: 2 } });
      log.info('a line');`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const files = await readdir(dir);
    assert.ok(files.length > 0, 'the file was written');
    for (const file of files) assert.equal((await stat(join(dir, file))).mode & 0o777, 0o640, file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("secrets are censored on every line: the platform's paths and the service's own", () => {
  const script = `
    const { createLogger } = await import(${JSON.stringify(new URL('./createLogger.ts', import.meta.url).href)});
    const log = await createLogger({ service: 's', version: '1', commit: 'c', level: 'info',
      redact: ['paymentToken', '*.paymentToken', 'JWT_SECRET'] });
    log.info({ headers: { authorization: 'Bearer t' }, password: 'p', DATABASE_URL: 'postgres://u:p@h/d',
      paymentToken: 'tok_1', body: { paymentToken: 'tok_2' }, JWT_SECRET: 'j', cartId: 'kept' }, 'a line');`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const line = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
  assert.deepEqual(
    {
      headers: line.headers,
      password: line.password,
      DATABASE_URL: line.DATABASE_URL,
      paymentToken: line.paymentToken,
      body: line.body,
      JWT_SECRET: line.JWT_SECRET,
      cartId: line.cartId,
    },
    {
      headers: { authorization: '[REDACTED]' },
      password: '[REDACTED]',
      DATABASE_URL: '[REDACTED]',
      paymentToken: '[REDACTED]',
      body: { paymentToken: '[REDACTED]' },
      JWT_SECRET: '[REDACTED]',
      cartId: 'kept',
    },
  );
});

test("a line names the trace it is written in, once, whether its logger is a request's or the service's", () => {
  const script = `
    const { createLogger } = await import(${JSON.stringify(new URL('./createLogger.ts', import.meta.url).href)});
    const { runInTrace, startTrace, traceFields } = await import(${JSON.stringify(new URL('../tracing/traceContext.ts', import.meta.url).href)});
    const log = await createLogger({ service: 's', version: '1', commit: 'c', level: 'info' });
    log.info('outside');
    const work = startTrace('GET');
    runInTrace(work, () => log.info('inside'));
    const bound = log.child(traceFields(work.span));
    runInTrace(startTrace('other'), () => bound.info('bound'));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const [outside, inside, bound] = run.stdout.trim().split('\n');
  assert.equal(JSON.parse(String(outside)).trace_id, undefined);
  const { trace_id, span_id } = JSON.parse(String(inside));
  assert.match(trace_id, /^[0-9a-f]{32}$/);
  assert.match(span_id, /^[0-9a-f]{16}$/);
  // A logger bound to its work keeps its ids, written once, wherever it logs from.
  assert.equal(String(bound).match(/"trace_id"/g)?.length, 1);
  assert.equal(JSON.parse(String(bound)).trace_id, trace_id);
});

test("a line carries its own fields only, never an earlier line's", async () => {
  const script = `
    const { createLogger } = await import(${JSON.stringify(new URL('./createLogger.ts', import.meta.url).href)});
    const log = await createLogger({ service: 's', version: '1', commit: 'c', level: 'info' });
    log.info({ event: 'service_started', port: 1 }, 'service_started');
    log.child({ requestId: 'r1' }).info({ cartId: 'cart-of-user-a' }, 'request_completed');
    log.child({ requestId: 'r2', trace_id: 't', span_id: 's' }).info({ userId: 'b' }, 'request_completed');
    log.info('plain');`;
  const lines = linesOf(script);
  const own = (line: Record<string, unknown>) =>
    Object.keys(line)
      .filter((key) => !['level', 'time', 'service', 'version', 'commit', 'pid', 'msg'].includes(key))
      .sort();
  assert.deepEqual(lines.map(own), [
    ['event', 'port'],
    ['cartId', 'requestId'],
    ['requestId', 'span_id', 'trace_id', 'userId'],
    [],
  ]);
});
