import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  type LogSource,
  type ReadLimits,
  type ReadOutcome,
  readLog,
  resolveLogSources,
} from './logSources.ts';

async function linesOf(source: LogSource, options: { limits?: ReadLimits; stdin?: Readable } = {}) {
  const lines: string[] = [];
  const cut: number[] = [];
  const outcome: ReadOutcome = await readLog(
    source,
    { line: (text) => lines.push(text), cut: (lineNo) => cut.push(lineNo), blank: () => {} },
    options,
  );
  return { lines, cut, outcome };
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'triage-sources-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a directory gives its log files, rotated ones before the live one, oldest first; gzip read by its bytes', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'checkout.log'), 'live\n');
    await writeFile(join(dir, 'checkout.1.log.gz'), gzipSync('rotated 1\n'));
    await writeFile(join(dir, 'checkout.2.log'), gzipSync('rotated 2, compressed under a plain name\n'));
    await writeFile(join(dir, 'inventory.log'), 'inventory\n');
    await writeFile(join(dir, 'notes.txt'), 'not a log\n');
    const sources = await resolveLogSources(dir);
    assert.deepEqual(
      sources.map((s) => s.name),
      ['checkout.2.log', 'checkout.1.log.gz', 'checkout.log', 'inventory.log'],
    );
    const lines: string[] = [];
    for (const source of sources) lines.push(...(await linesOf(source)).lines);
    assert.deepEqual(lines, ['rotated 2, compressed under a plain name', 'rotated 1', 'live', 'inventory']);
  }));

test('"-" reads standard input', async () => {
  const [source] = await resolveLogSources('-');
  assert.deepEqual(source, { name: 'stdin' });
  const read = await linesOf(source as LogSource, {
    stdin: Readable.from([Buffer.from('a\nb'), Buffer.from('\nc\n')]),
  });
  assert.deepEqual(read.lines, ['a', 'b', 'c']);
  assert.deepEqual(read.outcome, { state: 'read', lines: 3 });
});

test('a path that does not exist is an error the command reports as bad usage', async () => {
  await assert.rejects(resolveLogSources(join(tmpdir(), 'no-such-log-dir-for-triage')), { code: 'ENOENT' });
});

test('what is not a regular file is skipped with its reason, at once: FIFO, directory, link loop, dangling link', () =>
  withDir(async (dir) => {
    execFileSync('mkfifo', [join(dir, 'fifo.log')]);
    await mkdir(join(dir, 'folder.log'));
    await symlink('loop.log', join(dir, 'loop.log'));
    await symlink('nowhere', join(dir, 'dangling.log'));
    await symlink('/dev/zero', join(dir, 'device.log'));
    const outcomes = new Map<string, ReadOutcome>();
    for (const source of await resolveLogSources(dir))
      outcomes.set(source.name, (await linesOf(source)).outcome);
    assert.deepEqual(Object.fromEntries(outcomes), {
      'dangling.log': {
        state: 'skipped',
        reason: 'dangling_link',
        detail: 'a symbolic link to nothing',
        lines: 0,
      },
      'device.log': { state: 'skipped', reason: 'not_a_file', detail: 'a device', lines: 0 },
      'fifo.log': { state: 'skipped', reason: 'not_a_file', detail: 'a FIFO', lines: 0 },
      'folder.log': { state: 'skipped', reason: 'not_a_file', detail: 'a directory', lines: 0 },
      'loop.log': { state: 'skipped', reason: 'link_loop', detail: 'a symbolic link that loops', lines: 0 },
    });
  }));

test('a line past the limit is cut and counted, the lines around it read whole', () =>
  withDir(async (dir) => {
    const path = join(dir, 'long.log');
    await writeFile(path, `before\n${'x'.repeat(300_000)}\n${'y'.repeat(100)}\r\nafter`);
    const read = await linesOf(
      { name: 'long.log', path },
      { limits: { maxLineBytes: 1000, maxDecompressedBytes: 1e9 } },
    );
    assert.deepEqual(read.lines, ['before', 'y'.repeat(100), 'after']);
    assert.deepEqual(read.cut, [2]);
    assert.equal(read.outcome.lines, 4);
  }));

test('a compressed file is read up to its decompressed limit, then cut and said so; a corrupt one is named', () =>
  withDir(async (dir) => {
    const bomb = join(dir, 'bomb.log.gz');
    await writeFile(bomb, gzipSync(Buffer.alloc(64 * 2 ** 20, '\n')));
    const limits = { maxLineBytes: 1000, maxDecompressedBytes: 2 ** 20 };
    const read = await linesOf({ name: 'bomb.log.gz', path: bomb }, { limits });
    assert.equal(read.outcome.state, 'partial');
    assert.equal(read.outcome.reason, 'decompressed_limit');
    assert.ok(read.outcome.lines <= 2 ** 20 + 2 ** 16, String(read.outcome.lines));
    const corrupt = join(dir, 'corrupt.log.gz');
    const whole = gzipSync('one\ntwo\n'.repeat(1000));
    await writeFile(corrupt, whole.subarray(0, whole.length - 20));
    const broken = await linesOf({ name: 'corrupt.log.gz', path: corrupt });
    assert.equal(broken.outcome.reason, 'corrupt');
    assert.equal(broken.outcome.state, 'partial');
  }));

test('an aborted read stops where it is and says so', async () => {
  const never = new Readable({ read() {} });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  never.push('a line\n');
  const lines: string[] = [];
  const outcome = await readLog(
    { name: 'stdin' },
    { line: (text) => lines.push(text), cut: () => {}, blank: () => {} },
    { stdin: never, signal: controller.signal },
  );
  assert.deepEqual(outcome, { state: 'partial', reason: 'timeout', lines: 1 });
  assert.deepEqual(lines, ['a line']);
});
