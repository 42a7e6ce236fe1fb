import { setTimeout as sleep } from 'node:timers/promises';
import { type ProcessEntry, processTree, stillRunning } from './processTree.ts';

export interface StopTreeOptions {
  /** The processes to stop, each with the group it leads and all its descendants. */
  roots: readonly number[];
  /** Asks them to stop (SIGTERM to a root, as a rule); called once, after the tree was listed. */
  ask: () => void;
  /** How long they may take before SIGKILL. */
  timeoutMs: number;
  /** Once aborted: SIGKILL now, the rest of the timeout not waited out (a second Ctrl-C). */
  hurry?: AbortSignal | undefined;
  /** While waiting, after 3 s (a drain of the usual length is not news) and then every 5 s: the time left. */
  onWaiting?: (leftMs: number, running: readonly ProcessEntry[]) => void;
  /** Just before SIGKILL, with what is still running. */
  onKill?: (running: readonly ProcessEntry[]) => void;
  /** How a signal is sent (a unit test gives one that cannot kill). */
  signal?: (pid: number, signal: NodeJS.Signals) => void;
}

export interface StoppedTree {
  /** Every process that belonged to the tree during the stop. */
  seen: ProcessEntry[];
  /** What still ran after SIGKILL: a process SIGKILL cannot end (not ours to signal, or stuck in the kernel). */
  survivors: ProcessEntry[];
}

const POLL_MS = 200;
/** SIGKILL is acted on by the kernel at once, a stopped process included; this only allows for reaping. */
const KILL_WAIT_MS = 3000;

/**
 * Stops a process and everything it started, in a bounded time whatever state they are in: asks, wakes
 * them (a SIGSTOPped process keeps a SIGTERM pending until it gets SIGCONT), waits up to `timeoutMs`
 * for the whole tree to be gone (not only the root: a wrapper may exit and leave its server running),
 * then SIGKILLs what is left, the groups it leads included.
 */
export async function stopProcessTree(options: StopTreeOptions): Promise<StoppedTree> {
  const send = options.signal ?? ((pid, signal) => process.kill(pid, signal));
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      send(pid, name);
    } catch {
      // Gone already (ESRCH), or not ours to signal (EPERM): the checks that follow tell which.
    }
  };
  const seen = new Map<number, ProcessEntry>();
  const note = (entries: readonly ProcessEntry[]) => {
    for (const entry of entries) seen.set(entry.pid, entry);
  };
  /** What of the tree runs now, children started since the last look included. */
  const running = async () => {
    const alive = await stillRunning([...seen.values()]);
    const tree = await processTree(alive.map((entry) => entry.pid));
    note(tree);
    return tree.filter((entry) => !entry.zombie);
  };

  note(await processTree(options.roots));
  options.ask();
  for (const entry of seen.values()) signal(entry.pid, 'SIGCONT');

  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let nextNotice = started + 3000;
  let left = await running();
  while (left.length > 0 && !options.hurry?.aborted && Date.now() < deadline) {
    if (Date.now() >= nextNotice) {
      options.onWaiting?.(deadline - Date.now(), left);
      nextNotice += 5000;
    }
    await sleep(POLL_MS, undefined, { signal: options.hurry }).catch(() => {});
    left = await running();
  }
  if (left.length === 0) return { seen: [...seen.values()], survivors: [] };

  options.onKill?.(left);
  const groups = new Set(left.map((entry) => entry.pgid).filter((pgid) => seen.has(pgid)));
  for (const group of groups) signal(-group, 'SIGKILL');
  for (const entry of left) signal(entry.pid, 'SIGKILL');
  const killDeadline = Date.now() + KILL_WAIT_MS;
  while (left.length > 0 && Date.now() < killDeadline) {
    await sleep(POLL_MS / 4);
    left = await stillRunning(left);
  }
  return { seen: [...seen.values()], survivors: left };
}
