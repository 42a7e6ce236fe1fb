import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LiveVerdict } from './liveVerdict.ts';

// A unit test of the module: the scrape and the health are fakes of what a service serves.
const scrapeOf = (paymentFailures: number, breaker = 0) =>
  [
    '# TYPE dependency_calls_total counter',
    `dependency_calls_total{service="checkout",dependency="paymentGateway",outcome="failure"} ${paymentFailures}`,
    `dependency_calls_total{service="checkout",dependency="paymentGateway",outcome="success"} 100`,
    `circuit_breaker_state{service="checkout",dependency="paymentGateway"} ${breaker}`,
  ].join('\n');

describe('the live verdict of a dashboard', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'live-verdict-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('counters are read over the window: a failure that stopped is not the verdict a minute later', async () => {
    let now = Date.parse('2026-11-30T10:00:00.000Z');
    let failures = 6;
    const live = new LiveVerdict(
      {
        scrape: async () => scrapeOf(failures),
        health: async () => ({ status: 200, body: { db: 'connected' } }),
      },
      { now: () => now, windowMs: 60_000, intervalMs: 5000 },
    );
    const first = await live.refresh();
    assert.equal(first?.status, 'problem', 'at the first reading, since the process started');
    assert.equal(first?.category, 'dependency_failure');
    assert.equal(first?.subject, 'paymentGateway');
    assert.match(first?.firstAction ?? '', /^Do not restart the checkout service/);
    const since = first?.since;
    now += 5000;
    failures = 9;
    const second = await live.refresh();
    assert.equal(second?.status, 'problem', 'three more failures within the window');
    assert.equal(second?.since, since, 'the same cause keeps its "since"');
    // Nothing failed for more than the window: the increase over it is zero.
    for (let i = 0; i < 14; i++) {
      now += 5000;
      await live.refresh();
    }
    const healed = await live.refresh();
    assert.equal(healed?.status, 'healthy', String(healed?.headline));
    assert.equal(healed?.since, undefined);
  });

  test('an open breaker is read as it is now, whatever the window', async () => {
    const live = new LiveVerdict({ scrape: async () => scrapeOf(0, 2) });
    const verdict = await live.refresh();
    assert.equal(verdict?.status, 'problem');
    assert.match(verdict?.headline ?? '', /circuit breaker of paymentGateway is open/);
  });

  test('it runs at most once per interval and never makes a reader wait', async () => {
    let scrapes = 0;
    let release: () => void = () => {};
    const live = new LiveVerdict(
      {
        scrape: () => {
          scrapes++;
          return new Promise((resolve) => {
            release = () => resolve(scrapeOf(0));
          });
        },
      },
      { intervalMs: 60_000 },
    );
    assert.equal(live.current(), undefined, 'no verdict yet, and no waiting for it');
    for (let i = 0; i < 100; i++) live.current();
    assert.equal(scrapes, 1, 'one run in flight, whatever the number of readers');
    release();
    const verdict = await live.refresh();
    assert.equal(verdict?.status, 'healthy');
    for (let i = 0; i < 100; i++) assert.equal(live.current(), verdict);
    assert.equal(scrapes, 1, 'no second run within the interval');
  });

  test('a peer that does not answer is named, and the run ends within its budget', async () => {
    const started = performance.now();
    const live = new LiveVerdict(
      { scrape: async () => scrapeOf(0), peers: ['http://127.0.0.1:9'] },
      { budgetMs: 1500 },
    );
    const verdict = await live.refresh();
    assert.ok(performance.now() - started < 3000);
    assert.ok(
      verdict?.read.notRead.some((s) => s.startsWith('http://127.0.0.1:9/metrics (unreachable')),
      JSON.stringify(verdict?.read),
    );
  });

  test('the tail of its newest log file is read, over the window: the 5xx there decide, and say since when', async () => {
    const now = Date.parse('2026-11-30T10:10:00.000Z');
    const line = (at: number, status: number, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        level: status >= 500 ? 'warn' : 'info',
        time: new Date(at).toISOString(),
        service: 'checkout',
        msg: 'request_completed',
        endpoint: 'POST /api/carts',
        statusCode: status,
        ...extra,
      });
    // An older rotation with a failure long ago, and the file written now with a minute of new failures.
    await writeFile(join(dir, 'checkout.1.log'), `${line(now - 3_600_000, 500)}\n`);
    await utimes(join(dir, 'checkout.1.log'), new Date(now - 3_600_000), new Date(now - 3_600_000));
    const lines = ['{"half a line from the rotation before'];
    for (let s = 50; s > 0; s--)
      lines.push(line(now - s * 1000, s > 30 ? 201 : 503, { error: 'SERVICE_TEMPORARILY_UNAVAILABLE' }));
    for (let s = 30; s > 0; s--)
      lines.push(
        JSON.stringify({
          level: 'warn',
          time: new Date(now - s * 1000).toISOString(),
          service: 'checkout',
          msg: `ledger quota of tenant ${s} exhausted`,
        }),
      );
    const content = `${'x'.repeat(100)}\n${lines.join('\n')}\n{"being written`;
    await writeFile(join(dir, 'checkout.2.log'), content);
    const live = new LiveVerdict(
      { scrape: async () => scrapeOf(0), logFile: join(dir, 'checkout.log') },
      // The tail begins inside the first line.
      { now: () => now, logTailBytes: Buffer.byteLength(content) - 50 },
    );
    const verdict = await live.refresh();
    assert.equal(verdict?.status, 'problem', String(verdict?.headline));
    assert.equal(verdict?.since, new Date(now - 30_000).toISOString());
    assert.match(
      verdict?.cause ?? '',
      /new since the failure: `ledger quota of tenant <\*> exhausted` \(30 times\)/,
    );
    assert.equal(
      verdict?.read.logLines,
      81,
      'the whole lines of the tail (a half line among them): not the cut one, not the one being written',
    );
  });
});
