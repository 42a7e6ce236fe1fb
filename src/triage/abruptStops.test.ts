import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEARTBEAT_INTERVAL_MS } from '../contract/logEvents.ts';
import { AbruptStops, OVERDUE_MS, type RunLine } from './abruptStops.ts';

const T0 = Date.parse('2026-12-04T10:00:00Z');
const FILE = 'checkout-1-2026-12-04.log';

type Line = [file: string, line: Partial<RunLine> & { time: number }];

function feed(lines: Line[]): AbruptStops {
  const stops = new AbruptStops();
  lines.forEach(([file, line], index) => {
    stops.observe(file, { service: 'checkout', pid: undefined, event: 'other', ...line }, () => ({
      at: `${file}:${index + 1}`,
      time: new Date(line.time).toISOString(),
      line: `line ${index + 1}`,
    }));
  });
  return stops;
}

/** A process's boot as this build writes it: its first line, a line of Fastify's, service_started. */
const boot = (pid: number, time: number, file = FILE): Line[] => [
  [file, { pid, event: 'starting', time }],
  [file, { pid, time: time + 5 }],
  [file, { pid, event: 'started', time: time + 10 }],
];

/** Heartbeats of `pid` from `from` to `to`. */
const alive = (pid: number, from: number, to: number, file = FILE): Line[] => {
  const lines: Line[] = [];
  for (let time = from; time <= to; time += HEARTBEAT_INTERVAL_MS)
    lines.push([file, { pid, event: 'alive', time }]);
  return lines;
};

describe('AbruptStops', () => {
  it('names the instance of a collector file, a rotated file and standard input', () => {
    assert.equal(AbruptStops.instanceOf('checkout-1-2026-12-04.log', 'checkout'), 'checkout-1');
    assert.equal(AbruptStops.instanceOf('checkout-1-2026-12-03.log.gz', 'checkout'), 'checkout-1');
    assert.equal(AbruptStops.instanceOf('checkout.2.log.gz', 'checkout'), 'checkout');
    assert.equal(AbruptStops.instanceOf('payment-2026-12-04.log', 'payment'), 'payment');
    assert.equal(AbruptStops.instanceOf('stdin', 'inventory'), 'inventory');
  });

  it('a run followed by the next without a logged end died; runs that logged theirs did not', () => {
    const stops = feed([
      ...boot(10, T0),
      [FILE, { pid: 10, time: T0 + 1000 }],
      ...boot(11, T0 + 3000),
      [FILE, { pid: 11, event: 'ended', time: T0 + 5000 }],
      ...boot(12, T0 + 6000),
    ]).stops();
    assert.deepEqual(
      stops.map((s) => [s.instance, s.lastLine.at, s.restartedAt]),
      [['checkout-1', `${FILE}:4`, T0 + 3000]],
      'the last line of the run that died, and when the next began',
    );
  });

  it("a process restarted under the same pid (a container's pid 1) is a new run", () => {
    const stops = feed([...boot(1, T0), [FILE, { pid: 1, time: T0 + 1000 }], ...boot(1, T0 + 4000)]).stops();
    assert.deepEqual(
      stops.map((s) => [s.lastLine.at, s.restartedAt]),
      [[`${FILE}:4`, T0 + 4000]],
    );
  });

  it('older lines without pids or service_starting: service_started begins a run', () => {
    const stops = feed([
      ['checkout.log', { time: T0 }],
      ['checkout.log', { event: 'started', time: T0 + 20 }],
      ['checkout.log', { time: T0 + 1000 }],
      ['checkout.log', { time: T0 + 2000 }],
      ['checkout.log', { event: 'started', time: T0 + 2020 }],
    ]).stops();
    // Without a pid, the next boot's lines before its service_started cannot be told from the dead run's.
    assert.deepEqual(
      stops.map((s) => [s.instance, s.lastLine.at, s.restartedAt]),
      [['checkout', 'checkout.log:4', T0 + 2020]],
    );
  });

  it('two processes writing under one name at once are not restarts of each other; the heartbeat tells', () => {
    const end = T0 + 10 * HEARTBEAT_INTERVAL_MS;
    const stops = feed(
      [
        ...boot(1, T0),
        ...boot(2, T0 + 1000),
        ...alive(1, T0 + HEARTBEAT_INTERVAL_MS, T0 + 3 * HEARTBEAT_INTERVAL_MS),
        ...alive(2, T0 + HEARTBEAT_INTERVAL_MS, end),
      ].sort((a, b) => a[1].time - b[1].time),
    ).stops();
    assert.equal(stops.length, 1, 'one of them went silent');
    assert.equal(stops[0]?.silentForMs, end - (T0 + 3 * HEARTBEAT_INTERVAL_MS));
    assert.equal(stops[0]?.restartedAt, undefined);
  });

  it('an idle instance is alive while its heartbeat goes on; one whose heartbeat stopped is not', () => {
    const end = T0 + 20 * HEARTBEAT_INTERVAL_MS;
    const stops = feed(
      [
        ...boot(1, T0, 'payment-2026-12-04.log').map(([f, l]): Line => [f, { ...l, service: 'payment' }]),
        ...alive(1, T0 + HEARTBEAT_INTERVAL_MS, end, 'payment-2026-12-04.log').map(
          ([f, l]): Line => [f, { ...l, service: 'payment' }],
        ),
        ...boot(2, T0),
        ...alive(2, T0 + HEARTBEAT_INTERVAL_MS, T0 + 5 * HEARTBEAT_INTERVAL_MS),
        // An older build's instance: no heartbeat, silent since; nothing says it died.
        ...boot(3, T0, 'inventory-2026-12-04.log')
          .filter(([, l]) => l.event !== 'starting')
          .map(([f, l]): Line => [f, { ...l, service: 'inventory' }]),
      ].sort((a, b) => a[1].time - b[1].time),
    ).stops();
    assert.deepEqual(
      stops.map((s) => [s.instance, s.silentForMs]),
      [['checkout-1', end - (T0 + 5 * HEARTBEAT_INTERVAL_MS)]],
    );
    assert.ok((stops[0]?.silentForMs ?? 0) > OVERDUE_MS);
  });

  it('a day file read after the next day changes nothing', () => {
    const stops = feed([
      ...boot(1, T0),
      ['checkout-1-2026-12-05.log', { pid: 1, time: T0 + 86_400_000 }],
      ['checkout-1-2026-12-04.log', { pid: 1, time: T0 + 100 }],
      ['checkout-1-2026-12-05.log', { pid: 1, event: 'ended', time: T0 + 86_400_001 }],
      ...boot(2, T0 + 86_500_000, 'checkout-1-2026-12-05.log'),
    ]).stops();
    assert.deepEqual(stops, []);
  });
});
