import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { StockCommitter } from './StockCommitter.ts';

// Batches against fakes: what leaves when, one batch at a time, and a failed batch left to recovery.
function committer(inventory: (ids: string[]) => Promise<string[]>) {
  const batches: string[][] = [];
  const marked: string[][] = [];
  const lines: { msg: string }[] = [];
  const stock = new StockCommitter({
    inventory: {
      commitMany: async (ids) => {
        batches.push([...ids]);
        return inventory(ids);
      },
    },
    attempts: {
      markStockCommitted: async (ids) => {
        marked.push([...ids]);
      },
    },
    logger: pino({}, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) }),
  });
  return { stock, batches, marked, lines };
}

const ids = (n: number, prefix = 'a') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test('reservations leave in one batch shortly after the first, and are marked committed', async () => {
  const { stock, batches, marked } = committer(async (batch) => batch);
  for (const id of ids(3)) stock.add(id);
  assert.deepEqual(batches, [], 'nothing leaves at once');
  await sleep(60);
  assert.deepEqual(batches, [ids(3)]);
  assert.deepEqual(marked, [ids(3)]);
});

test('a hundred leave at once, and one batch at a time: the next waits for the one under way', async () => {
  let land: () => void = () => {};
  const { stock, batches } = committer(
    (batch) =>
      new Promise((resolve) => {
        land = () => resolve(batch);
      }),
  );
  for (const id of ids(150)) stock.add(id);
  assert.equal(batches.length, 1, 'a full batch leaves without waiting');
  assert.equal(batches[0]?.length, 100);
  await sleep(60);
  assert.equal(batches.length, 1, 'the rest waits for the batch under way');
  land();
  await sleep(60);
  assert.equal(batches.length, 2);
  assert.deepEqual(batches[1], ids(150).slice(100));
  land();
  await stock.flush();
});

test('only what the inventory committed is marked; a failed batch is logged and left to recovery', async () => {
  const { stock, marked, lines } = committer(async (batch) => {
    if (batch.includes('b0')) throw new Error('inventory down');
    return batch.slice(1);
  });
  assert.deepEqual(await stock.commitNow(ids(3)), ['a1', 'a2']);
  assert.deepEqual(marked, [['a1', 'a2']]);
  assert.deepEqual(await stock.commitNow(ids(2, 'b')), [], 'commitNow never rejects');
  assert.ok(lines.some((l) => l.msg === 'stock_commit_deferred'));
});

test('flush sends what is queued and waits for it, before the process exits', async () => {
  const { stock, batches } = committer(async (batch) => batch);
  stock.add('x');
  await stock.flush();
  assert.deepEqual(batches, [['x']]);
});
