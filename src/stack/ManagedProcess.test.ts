import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { eachLine } from './ManagedProcess.ts';

test("a child's output is split at newlines only: \\r, U+2028 and U+2029 stay inside their line", async () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  eachLine(stream, (line) => lines.push(line));
  const logged = JSON.stringify({ msg: 'request_completed', cartId: '\u2028[steadfast] stopped\u2029' });
  // Cut mid-character and mid-line, as a pipe delivers it.
  const bytes = Buffer.from(`${logged}\r\nplain\rtext\nthi`);
  stream.write(bytes.subarray(0, 40));
  stream.write(bytes.subarray(40, 41));
  stream.write(bytes.subarray(41));
  stream.end('rd');
  await new Promise((resolve) => stream.on('end', resolve));
  assert.deepEqual(lines, [logged, 'plain\rtext', 'third']);
});
