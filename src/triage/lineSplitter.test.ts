import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from './lineSplitter.ts';

function split(chunks: (string | Buffer)[], maxLineBytes = 16) {
  const seen: string[] = [];
  const splitter = new LineSplitter(maxLineBytes, {
    line: (text, lineNo) => seen.push(`${lineNo}:${text}`),
    cut: (lineNo) => seen.push(`${lineNo}:CUT`),
    blank: (lineNo, count) => seen.push(`${lineNo}:BLANK${count > 1 ? `x${count}` : ''}`),
  });
  for (const chunk of chunks) splitter.push(Buffer.from(chunk));
  splitter.end();
  return { seen, lines: splitter.lines };
}

test('lines across chunks, CRLF, blank lines, a last line without its break', () => {
  assert.deepEqual(split(['ab', 'c\r\n\nd', 'e\n', '\r\nf']).seen, [
    '1:abc',
    '2:BLANK',
    '3:de',
    '4:BLANK',
    '5:f',
  ]);
});

test('a run of empty lines is counted in one call, with the line numbers after it right', () => {
  const { seen, lines } = split(['a\n\n\n', '\n\nb\n\r\n'], 16);
  assert.deepEqual(seen, ['1:a', '2:BLANKx2', '4:BLANKx2', '6:b', '7:BLANK']);
  assert.equal(lines, 7);
});

test('a multi-byte character split between chunks is whole in its line', () => {
  const euro = Buffer.from('€\n');
  assert.deepEqual(split([euro.subarray(0, 1), euro.subarray(1)]).seen, ['1:€']);
});

test('a line past the limit is cut whether it comes in one chunk or many, and the next line is intact', () => {
  assert.deepEqual(split(['short\n', 'x'.repeat(40), '\nnext\n']).seen, ['1:short', '2:CUT', '3:next']);
  const many = Array.from({ length: 1000 }, () => 'y'.repeat(10));
  assert.deepEqual(split(['a\n', ...many, '\nb']).seen, ['1:a', '2:CUT', '3:b']);
  assert.deepEqual(split(['z'.repeat(17)]).seen, ['1:CUT'], 'cut at the end of input too');
  assert.deepEqual(split(['z'.repeat(16)]).seen, [`1:${'z'.repeat(16)}`], 'the limit itself is allowed');
});

test('memory is bounded by the limit: a line of 64 MiB in 64 KiB chunks holds at most the limit', () => {
  const chunk = Buffer.alloc(2 ** 16, 'x');
  const splitter = new LineSplitter(2 ** 20, { line: () => assert.fail(), cut: () => {}, blank: () => {} });
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  for (let i = 0; i < 1024; i++) {
    splitter.push(chunk);
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
  }
  splitter.end();
  assert.ok(peak < 8 * 2 ** 20, `held ${peak} bytes`);
  assert.equal(splitter.lines, 1);
});
