import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VegasLimit, type VegasLimitOptions } from './VegasLimit.ts';

/** A limit whose probe never comes unless asked for, and a clock of its own. */
function vegas(options: Partial<VegasLimitOptions> = {}) {
  const limit = new VegasLimit({
    minLimit: 4,
    maxLimit: 36,
    probeMultiplier: 1e9,
    random: () => 0,
    ...options,
  });
  let now = 0;
  /** `windows` full windows of ten answers, each `latencyMs` long with `inFlight` in (the limit's, by default). */
  const feed = (windows: number, latencyMs: number, inFlight?: number) => {
    for (let w = 0; w < windows; w++) {
      // The tenth answer 100 ms after the first: each batch is one window.
      for (let i = 0; i < 10; i++) limit.onSample(latencyMs, inFlight ?? limit.limit, now + (i * 100) / 9);
      now += 100;
    }
  };
  return { limit, feed };
}

test('the limit starts at the capacity and stays there while answers meet no queue', () => {
  const { limit, feed } = vegas();
  assert.equal(limit.limit, 36);
  feed(200, 20);
  assert.equal(limit.limit, 36);
});

test('answers slower than the least latency seen bring the limit down a step a window', () => {
  const { limit, feed } = vegas();
  feed(5, 20);
  // 36 x (1 - 20/40) = 18 of the requests let in are waiting: more than beta (6), one step (1) down.
  feed(3, 40);
  assert.equal(limit.limit, 33);
  // Down to where beta are waiting: 12 x (1 - 20/40) = 6.
  feed(100, 40);
  assert.equal(limit.limit, 12);
});

test('however slow the answers, the limit stays at its least', () => {
  const { limit, feed } = vegas({ minLimit: 10 });
  feed(5, 20);
  feed(100, 2000);
  assert.equal(limit.limit, 10);
});

test('the limit settles where the requests waiting are between alpha and beta', () => {
  const { limit, feed } = vegas({ minLimit: 1, maxLimit: 200 });
  feed(5, 10);
  // A route whose latency is 10 ms plus 1 ms per request let in past 10: what a saturated machine does.
  for (let w = 0; w < 400; w++) feed(1, 10 + Math.max(0, limit.limit - 10));
  const settled = limit.limit;
  const waiting = Math.ceil(settled * (1 - 10 / (10 + Math.max(0, settled - 10))));
  assert.ok(
    waiting >= 3 && waiting <= 6 * Math.floor(Math.log10(settled)),
    `limit ${settled}, ${waiting} waiting`,
  );
  assert.ok(settled < 200, `below the capacity (${settled})`);
});

test('once the queue is gone the limit grows back to the capacity', () => {
  const { limit, feed } = vegas();
  feed(5, 20);
  feed(100, 40);
  assert.equal(limit.limit, 12);
  // Six a window while no request waits.
  feed(3, 20);
  assert.equal(limit.limit, 30);
  feed(1, 20);
  assert.equal(limit.limit, 36);
});

test('a route using less than half its limit teaches it nothing', () => {
  const { limit, feed } = vegas();
  feed(5, 20);
  feed(50, 80, 17);
  assert.equal(limit.limit, 36);
});

test('a window closes only with ten answers and 100 ms behind it', () => {
  const limit = new VegasLimit({ minLimit: 4, maxLimit: 36, probeMultiplier: 1e9 });
  for (let i = 0; i < 10; i++) limit.onSample(20, 36, 0);
  for (let i = 0; i < 10; i++) limit.onSample(20, 36, 100);
  // Many slow answers within one 100 ms: one window, one step down.
  for (let i = 0; i < 1000; i++) limit.onSample(80, 36, 150);
  limit.onSample(80, 36, 200);
  assert.equal(limit.limit, 35);
  // 100 ms more of only nine answers: no step.
  for (let i = 0; i < 9; i++) limit.onSample(80, 36, 350);
  assert.equal(limit.limit, 35);
});

test('the least latency is measured again: a route slower for good gets its limit back', () => {
  const { limit, feed } = vegas({ probeMultiplier: 1 });
  feed(5, 20);
  // Slower for good (a gateway now takes 60 ms): without a probe the limit would stay at its least.
  feed(200, 80);
  assert.equal(limit.limit, 36);
});

test('a range without room is refused at construction', () => {
  assert.throws(() => new VegasLimit({ minLimit: 0, maxLimit: 10 }), RangeError);
  assert.throws(() => new VegasLimit({ minLimit: 11, maxLimit: 10 }), RangeError);
  assert.equal(new VegasLimit({ minLimit: 10, maxLimit: 10 }).limit, 10);
});
