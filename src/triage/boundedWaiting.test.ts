import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { mayHoldBalancerLines } from './balancerSniff.ts';
import { BoundedWaiting } from './boundedWaiting.ts';

test('the oldest still waiting goes once capacity newer ones came; a taken one is never pushed out', () => {
  const waiting = new BoundedWaiting<number>(3);
  assert.equal(waiting.put('a', 1), undefined);
  assert.equal(waiting.put('b', 2), undefined);
  assert.equal(waiting.take('a'), 1);
  assert.equal(waiting.take('a'), undefined, 'taken once');
  assert.equal(waiting.put('c', 3), undefined);
  assert.equal(waiting.put('d', 4), undefined, "a's slot was free");
  assert.equal(waiting.put('e', 5), 2, 'b, the oldest, goes');
  assert.equal(
    waiting.put('c', 33),
    3,
    'the same key replaces the one before (said as let go), and waits anew',
  );
  assert.deepEqual([...waiting.values()].sort(), [33, 4, 5].sort());
  assert.equal(waiting.put('f', 6), 4);
  assert.equal(waiting.put('g', 7), 5);
  assert.equal(waiting.put('h', 8), 33);
});

test('a million lines through a full join: each step O(1)', () => {
  const waiting = new BoundedWaiting<number>(100_000);
  const started = performance.now();
  let pushedOut = 0;
  for (let i = 0; i < 1_000_000; i++) {
    if (waiting.put(`id-${i}`, i) !== undefined) pushedOut++;
    if (i % 2) waiting.take(`id-${i - 1}`);
  }
  assert.ok(waiting.size <= 100_000);
  assert.ok(pushedOut > 0);
  assert.ok(performance.now() - started < 5000, `${performance.now() - started} ms`);
});

test("a source may hold HAProxy's lines by its head's bytes, compressed or not, whatever its name", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'triage-sniff-'));
  try {
    const balancer =
      '127.0.0.1:1 [02/Dec/2026:16:52:38.193] checkout checkout/checkout-1 0/0/0/1/1 200 1 ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1" id=a\n';
    const files: Record<string, string | Buffer> = {
      'edge.txt': balancer,
      'old.gz': gzipSync(balancer.repeat(10_000)),
      'checkout.log': '{"time":1,"msg":"request_completed","statusCode":200}\n',
      'haproxy.log': 'not a line of it\n',
    };
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    const say = async (name: string) => mayHoldBalancerLines({ name, path: join(dir, name) });
    assert.deepEqual(await Promise.all(Object.keys(files).map(say)), [true, true, false, false]);
    assert.equal(
      await mayHoldBalancerLines({ name: 'stdin' }),
      true,
      'standard input cannot be looked at first',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
