import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { readLines, resolveLogSources } from './logSources.ts';

test('a directory gives its log files, rotated ones before the live one, oldest first; gzip read by its bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'triage-sources-'));
  try {
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
    for (const source of sources) for await (const line of readLines(source)) lines.push(line);
    assert.deepEqual(lines, ['rotated 2, compressed under a plain name', 'rotated 1', 'live', 'inventory']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('"-" reads standard input', async () => {
  const [source] = await resolveLogSources('-');
  assert.deepEqual(source, { name: 'stdin' });
  const lines: string[] = [];
  for await (const line of readLines(source as { name: string }, Readable.from(['a\nb', '\nc\n'])))
    lines.push(line);
  assert.deepEqual(lines, ['a', 'b', 'c']);
});

test('a path that does not exist is an error the command reports as bad usage', async () => {
  await assert.rejects(resolveLogSources(join(tmpdir(), 'no-such-log-dir-for-triage')), { code: 'ENOENT' });
});
