import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromPs, type ProcessEntry, processTree, readProcesses, stillRunning } from './processTree.ts';
import { stopProcessTree } from './stopProcessTree.ts';

const spawned: ProcessEntry[] = [];
after(async () => {
  // Whatever a failed test left: nothing of these outlives the file.
  for (const entry of await stillRunning(spawned)) process.kill(entry.pid, 'SIGKILL');
});

/**
 * A shell script as a supervised child is started: in a process group of its own; its tree once `size`
 * are up and, for a script that starts a child in a session of its own, once that child has made it (a
 * forked child is in its parent's group until its `setsid` has run).
 */
async function tree(script: string, size: number): Promise<{ root: number; entries: ProcessEntry[] }> {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  const root = child.pid as number;
  const needsOwnSession = script.includes('setsid');
  for (let i = 0; i < 100; i++) {
    const entries = (await processTree([root])).filter((e) => !e.zombie);
    spawned.push(...entries);
    const settled = !needsOwnSession || entries.some((e) => e.pid !== root && e.pgid === e.pid);
    if (entries.length >= size && settled) return { root, entries };
    await sleep(50);
  }
  throw new Error(`the tree of ${script} did not reach ${size} processes`);
}

const pidsOf = (entries: readonly ProcessEntry[]) => entries.map((e) => e.pid).sort();

/** SIGTERM to the root, SIGKILL to what is left of its tree 1 s later: the outcome, and what got SIGKILL. */
async function stopWithin1s(root: number) {
  let killed: readonly ProcessEntry[] = [];
  const stopped = await stopProcessTree({
    roots: [root],
    ask: () => process.kill(root, 'SIGTERM'),
    timeoutMs: 1000,
    onKill: (left) => {
      killed = left;
    },
  });
  return { ...stopped, killed };
}

// A root that ignores SIGTERM, a child in its group and one in a session of its own (as PostgreSQL's
// backends are): `trap '' TERM` is inherited, so none of them ends on SIGTERM.
const STUBBORN = `trap '' TERM; setsid sleep 1000 & sleep 1000 & wait`;

test('a tree that ignores SIGTERM is SIGKILLed after the timeout, its own-session child included', async () => {
  const { root, entries } = await tree(STUBBORN, 3);
  const t0 = Date.now();
  const { killed, ...stopped } = await stopWithin1s(root);
  const elapsed = Date.now() - t0;
  assert.deepEqual(stopped.survivors, []);
  assert.deepEqual(pidsOf(killed), pidsOf(entries), 'SIGKILL went to every process of the tree');
  assert.deepEqual(await stillRunning(entries), [], 'none of them runs');
  assert.ok(elapsed >= 1000 && elapsed < 5000, `stopped in ${elapsed} ms`);
});

test('a SIGSTOPped root gets its SIGTERM (SIGCONT); what it leaves running is found and killed', async () => {
  // The root ends on SIGTERM; its child, never signalled by the root, outlives it: a wrapper that
  // exits and leaves its server behind.
  const { root, entries } = await tree(`sleep 1000 & wait`, 2);
  for (const entry of entries) process.kill(entry.pid, 'SIGSTOP');
  const { killed, ...stopped } = await stopWithin1s(root);
  assert.deepEqual(stopped.survivors, []);
  assert.deepEqual(
    pidsOf(killed),
    pidsOf(entries.filter((e) => e.pid !== root)),
    'the root ended on its SIGTERM; only the orphan needed SIGKILL',
  );
  assert.deepEqual(await stillRunning(entries), []);
});

test('a tree that stops when asked is not killed, and the stop returns as soon as it is gone', async () => {
  const { root, entries } = await tree(`sleep 1000 & trap 'kill $!; exit 0' TERM; wait`, 2);
  let killed = false;
  const t0 = Date.now();
  const stopped = await stopProcessTree({
    roots: [root],
    ask: () => process.kill(root, 'SIGTERM'),
    timeoutMs: 30_000,
    onKill: () => {
      killed = true;
    },
  });
  assert.equal(killed, false);
  assert.deepEqual(stopped.survivors, []);
  assert.deepEqual(await stillRunning(entries), []);
  assert.ok(Date.now() - t0 < 3000, `stopped in ${Date.now() - t0} ms`);
});

test('hurry (a second Ctrl-C) SIGKILLs at once, without waiting out the timeout', async () => {
  const { root, entries } = await tree(STUBBORN, 3);
  const hurry = new AbortController();
  const notices: number[] = [];
  setTimeout(() => hurry.abort(), 300);
  const t0 = Date.now();
  const stopped = await stopProcessTree({
    roots: [root],
    ask: () => process.kill(root, 'SIGTERM'),
    timeoutMs: 60_000,
    hurry: hurry.signal,
    onWaiting: (leftMs) => notices.push(leftMs),
  });
  assert.deepEqual(stopped.survivors, []);
  assert.deepEqual(await stillRunning(entries), []);
  assert.ok(Date.now() - t0 < 4000, `stopped in ${Date.now() - t0} ms`);
  assert.deepEqual(notices, [], 'no "waiting" notice within the first 3 s');
});

test('a process SIGKILL cannot end is returned as a survivor, with its command line', async () => {
  const { root, entries } = await tree(STUBBORN, 3);
  // The child in a session of its own: as a process of another user would, it ignores our signals.
  const stubborn = entries.find((e) => e.pid !== root && e.pgid === e.pid) as ProcessEntry;
  assert.ok(stubborn, 'the setsid child');
  const stopped = await stopProcessTree({
    roots: [root],
    ask: () => process.kill(root, 'SIGTERM'),
    timeoutMs: 500,
    signal: (pid, signal) => {
      if (Math.abs(pid) === stubborn.pid) throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
      process.kill(pid, signal);
    },
  });
  assert.deepEqual(pidsOf(stopped.survivors), [stubborn.pid]);
  assert.match(stopped.survivors[0]?.command ?? '', /sleep 1000/);
  assert.deepEqual(pidsOf(await stillRunning(entries)), [stubborn.pid], 'the others were killed');
  process.kill(stubborn.pid, 'SIGKILL');
});

test('ps (for systems without /proc) reads the same tree as /proc; a pid with another start time is another process', async () => {
  const { entries } = await tree(STUBBORN, 3);
  const fromProc = await readProcesses(entries.map((e) => e.pid));
  const viaPs = await fromPs(entries.map((e) => e.pid));
  const shape = (list: ProcessEntry[]) =>
    list.map(({ pid, ppid, pgid, zombie }) => ({ pid, ppid, pgid, zombie })).sort((a, b) => a.pid - b.pid);
  assert.deepEqual(shape(viaPs), shape(fromProc));
  assert.ok(viaPs.every((e) => e.started.length > 0 && /sleep|sh/.test(e.command)));
  assert.deepEqual(await fromPs([2 ** 22 + 1]), [], 'no such pid: empty, not an error');
  const reused = entries.map((e) => ({ ...e, started: `${e.started}0` }));
  assert.deepEqual(await stillRunning(reused), []);
  assert.equal((await stillRunning(entries)).length, 3, 'the same processes still run');
});
