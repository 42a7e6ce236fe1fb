import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { runTriage, type TriageIo } from './triageCommand.ts';

function capture(overrides: Partial<TriageIo> = {}) {
  const io = { out: '', err: '' };
  return {
    io,
    triageIo: {
      stdout: (text: string) => {
        io.out += text;
      },
      stderr: (text: string) => {
        io.err += text;
      },
      stdin: Readable.from([]),
      isTTY: false,
      ...overrides,
    } satisfies TriageIo,
  };
}

test('a failure of triage itself is one line on stderr and exit 4: no stack trace, not "a problem found"', async () => {
  const { io, triageIo } = capture({
    stdout: () => {
      throw new Error('disk\u001b[2J gone');
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'triage-command-'));
  try {
    const code = await runTriage(['--logs', dir], {}, triageIo);
    assert.equal(code, 4);
    assert.equal(io.err, 'steadfast triage: failed: disk\\x1b[2J gone\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a directory of no log files is named as a blind spot, and the verdict is UNKNOWN', async () => {
  const { io, triageIo } = capture();
  const dir = await mkdtemp(join(tmpdir(), 'triage-command-'));
  try {
    assert.equal(await runTriage(['--logs', dir], {}, triageIo), 3);
    assert.match(
      io.out,
      /^UNKNOWN: no evidence: no log lines read, and no metrics or health read; not read: .* \(skipped: not_found\)/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad options are bad usage (exit 2): a timeout, a size, a health source that is no URL', async () => {
  for (const args of [
    ['--timeout', '0s', '--logs', '-'],
    ['--timeout', 'soon', '--logs', '-'],
    ['--max-decompressed', 'lots', '--logs', '-'],
    ['--max-decompressed', '0', '--logs', '-'],
    ['--health', 'localhost:3000/health'],
    ['--metrics', join(tmpdir(), 'no-such-scrape.prom')],
  ]) {
    const { io, triageIo } = capture();
    assert.equal(await runTriage(args, {}, triageIo), 2, args.join(' '));
    assert.match(io.err, /Usage: steadfast triage/);
  }
});
