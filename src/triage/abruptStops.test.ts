import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbruptStops, type RunLine, SILENCE_MS } from './abruptStops.ts';

const T0 = Date.parse('2026-12-04T10:00:00Z');

function feed(lines: [file: string, line: Partial<RunLine> & { time: number }][]): AbruptStops {
  const stops = new AbruptStops();
  let n = 0;
  for (const [file, line] of lines) {
    n++;
    stops.observe(file, { service: 'checkout', pid: undefined, event: 'other', ...line }, () => ({
      at: `${file}:${n}`,
      time: new Date(line.time).toISOString(),
      line: `line ${n}`,
    }));
  }
  return stops;
}

describe('AbruptStops', () => {
  it('names the instance of a collector file, a rotated file and standard input', () => {
    assert.equal(AbruptStops.instanceOf('checkout-1-2026-12-04.log', 'checkout'), 'checkout-1');
    assert.equal(AbruptStops.instanceOf('checkout-1-2026-12-03.log.gz', 'checkout'), 'checkout-1');
    assert.equal(AbruptStops.instanceOf('checkout.2.log.gz', 'checkout'), 'checkout');
    assert.equal(AbruptStops.instanceOf('payment-2026-12-04.log', 'payment'), 'payment');
    assert.equal(AbruptStops.instanceOf('stdin', 'inventory'), 'inventory');
  });

  it('a process whose lines go on under another pid without a shutdown line died; a logged shutdown did not', () => {
    const stops = feed([
      ['checkout-1-2026-12-04.log', { pid: 10, event: 'started', time: T0 }],
      ['checkout-1-2026-12-04.log', { pid: 10, time: T0 + 1000 }],
      ['checkout-1-2026-12-04.log', { pid: 11, time: T0 + 3000 }],
      ['checkout-1-2026-12-04.log', { pid: 11, event: 'started', time: T0 + 3001 }],
      ['checkout-1-2026-12-04.log', { pid: 11, event: 'ended', time: T0 + 5000 }],
      ['checkout-1-2026-12-04.log', { pid: 12, event: 'started', time: T0 + 6000 }],
    ]).stops();
    assert.equal(stops.length, 1);
    assert.equal(stops[0]?.instance, 'checkout-1');
    assert.equal(stops[0]?.lastLine.at, 'checkout-1-2026-12-04.log:2', 'the last line of the run that died');
    assert.equal(stops[0]?.restartedAt, T0 + 3000);
  });

  it('without pids on the lines, a service_started after no shutdown line is a restart', () => {
    const stops = feed([
      ['checkout.log', { event: 'started', time: T0 }],
      ['checkout.log', { time: T0 + 1000 }],
      ['checkout.log', { event: 'started', time: T0 + 2000 }],
    ]).stops();
    assert.deepEqual(
      stops.map((s) => [s.instance, s.restartedAt]),
      [['checkout', T0 + 2000]],
    );
  });

  it('an instance silent for a minute while another logs is named; one idle less long, or ended, is not', () => {
    const stops = feed([
      ['checkout-1-2026-12-04.log', { pid: 1, event: 'started', time: T0 }],
      ['checkout-2-2026-12-04.log', { pid: 2, event: 'started', time: T0 }],
      ['checkout-3-2026-12-04.log', { pid: 3, event: 'started', time: T0 }],
      ['checkout-3-2026-12-04.log', { pid: 3, event: 'ended', time: T0 + 10 }],
      ['checkout-1-2026-12-04.log', { pid: 1, time: T0 + 5000 }],
      ['checkout-2-2026-12-04.log', { pid: 2, time: T0 + 5000 + SILENCE_MS - 10_000 }],
      ['inventory-2026-12-04.log', { service: 'inventory', pid: 4, time: T0 + 5000 + SILENCE_MS }],
    ]).stops();
    assert.deepEqual(
      stops.map((s) => [s.instance, s.silentForMs]),
      [['checkout-1', SILENCE_MS]],
    );
  });

  it('a day file read after the next day changes nothing; a fatal error is an end that says why', () => {
    const stops = feed([
      ['checkout-2026-12-04.log', { pid: 1, time: T0 + 86_400_000 }],
      ['checkout-2026-12-03.log.gz', { pid: 1, time: T0 }],
      ['checkout-2026-12-04.log', { pid: 1, event: 'ended', time: T0 + 86_400_001 }],
      ['checkout-2026-12-04.log', { pid: 2, event: 'started', time: T0 + 86_500_000 }],
    ]).stops();
    assert.deepEqual(stops, []);
  });
});
