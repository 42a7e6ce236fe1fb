import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { eachLine } from './ManagedProcess.ts';

test("a child's output is split at newlines only: U+2028 and U+2029 stay inside their line", async () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  eachLine(stream, (line) => lines.push(line));
  const logged = JSON.stringify({ msg: 'request_completed', cartId: '\u2028[steadfast] stopped\u2029' });
  // Split mid-character and mid-line, as pipes deliver it.
  const bytes = Buffer.from(`${logged}\r\nsecond\nthi`);
  stream.write(bytes.subarray(0, 40));
  stream.write(bytes.subarray(40));
  stream.end('rd');
  await new Promise((resolve) => stream.on('end', resolve));
  assert.deepEqual(lines, [logged, 'second', 'third']);
});
