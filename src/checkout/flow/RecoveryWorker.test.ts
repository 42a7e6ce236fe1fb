import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import pino from 'pino';
import type { Attempt } from './AttemptStore.ts';
import type { RecoveryOutcome } from './CheckoutService.ts';
import { RecoveryWorker, type RecoveryWorkerOptions } from './RecoveryWorker.ts';

// One round against fakes: what it claims it settles, a bug in one settlement does not stop the round,
// late charges are rechecked, keys purged, and every outcome counted in the metrics.
const attempt = (phase: Attempt['phase'] = 'started'): Attempt => ({
  id: randomUUID(),
  userId: 'usr_unit',
  cartId: randomUUID(),
  phase,
  amountCents: 100,
  currency: 'usd',
  items: [],
  chargeId: null,
  stockCommitted: false,
  startedAt: new Date(),
});

function worker(script: {
  abandoned?: Attempt[];
  uncommitted?: Attempt[];
  rechecks?: Attempt[];
  unreleased?: Attempt[];
  outcome?: (a: Attempt) => RecoveryOutcome | Promise<RecoveryOutcome>;
  refunds?: (a: Attempt) => number;
  /** Releases that fail (the inventory away). */
  releaseFails?: (a: Attempt) => boolean;
}) {
  const recorded: string[] = [];
  const lines: { msg: string; outcome?: string; level: number }[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) },
  );
  const options: RecoveryWorkerOptions = {
    service: {
      recover: async (a) => (script.outcome ?? (() => 'finished'))(a),
      refundLateCharges: async (a) => (script.refunds ?? (() => 0))(a),
      releaseStock: async (a) => {
        if (script.releaseFails?.(a)) throw new Error('inventory away');
        recorded.push(`released:${a.id}`);
      },
    },
    attempts: {
      claimAbandoned: async () => script.abandoned ?? [],
      claimUncommittedStock: async () => script.uncommitted ?? [],
      claimChargeRechecks: async () => script.rechecks ?? [],
      claimUnreleasedStock: async () => script.unreleased ?? [],
    },
    keys: { purge: async (hours) => (hours === 24 ? 3 : assert.fail(`retention ${hours}`)) },
    webhookEvents: { purge: async () => 2 },
    metrics: {
      recovered: (outcome) => recorded.push(outcome),
      lateChargesRefunded: (count) => recorded.push(`refunded:${count}`),
    },
    logger,
    intervalMs: 1000,
    keyRetentionHours: 24,
  };
  return { recovery: new RecoveryWorker(options), recorded, lines };
}

test('a round settles every attempt it claimed, counts each outcome, and purges old keys', async () => {
  const done = attempt();
  const released = attempt();
  const waiting = attempt('completed');
  const outcomes = new Map<string, RecoveryOutcome>([
    [done.id, 'finished'],
    [released.id, 'unwound'],
    [waiting.id, 'deferred'],
  ]);
  const { recovery, recorded, lines } = worker({
    abandoned: [done, released],
    uncommitted: [waiting],
    outcome: (a) => outcomes.get(a.id) ?? assert.fail('not claimed'),
  });
  assert.deepEqual(await recovery.runOnce(), {
    finished: 1,
    unwound: 1,
    deferred: 1,
    lateChargesRefunded: 0,
    stockReleased: 0,
    keysPurged: 3,
    webhookEventsPurged: 2,
  });
  assert.deepEqual(recorded, ['finished', 'unwound', 'deferred']);
  const settled = lines.filter((l) => l.msg === 'attempt_recovered');
  assert.deepEqual(
    settled.map((l) => [l.outcome, l.level]),
    [
      ['finished', 30],
      ['unwound', 30],
      ['deferred', 40],
    ],
  );
});

test('stock a failed attempt still holds is released; a release that fails waits for the next round', async () => {
  const owed = attempt('failed');
  const stuck = attempt('failed');
  const { recovery, recorded, lines } = worker({
    unreleased: [owed, stuck],
    releaseFails: (a) => a.id === stuck.id,
  });
  assert.equal((await recovery.runOnce()).stockReleased, 1);
  assert.deepEqual(recorded, [`released:${owed.id}`]);
  assert.deepEqual(
    lines
      .filter((l) => l.msg === 'stock_release_deferred')
      .map((l) => (l as { attemptId?: string }).attemptId),
    [stuck.id],
  );
});

test('a bug in one settlement is logged with its stack and the rest of the round goes on', async () => {
  const broken = attempt();
  const fine = attempt();
  const { recovery, lines } = worker({
    abandoned: [broken, fine],
    outcome: (a) => {
      if (a.id === broken.id) throw new TypeError('boom');
      return 'finished';
    },
  });
  const counts = await recovery.runOnce();
  assert.equal(counts.deferred, 1, 'the broken one is tried again next round');
  assert.equal(counts.finished, 1);
  const error = lines.find((l) => l.msg === 'recovery failed: boom') as unknown as {
    stack: string;
    level: number;
  };
  assert.equal(error.level, 50);
  assert.match(error.stack, /TypeError: boom/);
});

test('late charges are rechecked and refunded; a recheck that cannot be made now waits', async () => {
  const late = attempt('failed');
  const unreachable = attempt('failed');
  const { recovery, recorded, lines } = worker({
    rechecks: [late, unreachable],
    refunds: (a) => {
      if (a.id === unreachable.id) throw new Error('gateway down');
      return 2;
    },
  });
  assert.equal((await recovery.runOnce()).lateChargesRefunded, 2);
  assert.deepEqual(recorded, ['refunded:2', 'refunded:0']);
  assert.ok(lines.some((l) => l.msg === 'late_charge_recheck_deferred'));
});

test('started, it runs a round each interval, one at a time, and stop waits for the one under way', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let rounds = 0;
  let release: () => void = () => {};
  const { recovery } = worker({
    abandoned: [attempt()],
    outcome: () => {
      rounds++;
      return new Promise<RecoveryOutcome>((resolve) => {
        release = () => resolve('finished');
      });
    },
  });
  recovery.start();
  t.mock.timers.tick(1000);
  await new Promise((resolve) => setImmediate(resolve));
  t.mock.timers.tick(1000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(rounds, 1, 'a round still under way is not started again');
  const stopped = recovery.stop();
  release();
  await stopped;
});
