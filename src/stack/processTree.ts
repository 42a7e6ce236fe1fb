import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/** One process as the process table shows it. */
export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Its process group: a child spawned `detached` leads its own, which its own children share. */
  pgid: number;
  /** Exited but not yet reaped by its parent: it holds nothing but its table entry. */
  zombie: boolean;
  /** When it started: with the pid, who it is (a pid is reused once its process is gone). */
  started: string;
  /** Its command line, as the process shows it (PostgreSQL's backends name their role there). */
  command: string;
}

/**
 * The process table: `/proc` on Linux, `ps` elsewhere (macOS has no `/proc`). Without `pids`, every
 * process; with them, those of them that exist.
 */
export async function readProcesses(pids?: readonly number[]): Promise<ProcessEntry[]> {
  if (pids?.length === 0) return [];
  if (process.platform === 'linux') return fromProc(pids);
  return fromPs(pids);
}

/**
 * `roots`, every process of the groups they lead, and all their descendants, as they are now: what a
 * supervisor must account for when it stops a child that has children of its own (PostgreSQL's
 * backends each lead a group of their own, so only their parent links reach them).
 */
export async function processTree(roots: readonly number[]): Promise<ProcessEntry[]> {
  const table = await readProcesses();
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of table) {
    const siblings = children.get(entry.ppid) ?? [];
    siblings.push(entry);
    children.set(entry.ppid, siblings);
  }
  const wanted = new Set(roots);
  const found = new Map<number, ProcessEntry>();
  const queue = table.filter((entry) => wanted.has(entry.pid) || wanted.has(entry.pgid));
  for (let entry = queue.pop(); entry; entry = queue.pop()) {
    if (found.has(entry.pid)) continue;
    found.set(entry.pid, entry);
    queue.push(...(children.get(entry.pid) ?? []));
  }
  return [...found.values()];
}

/** Those of `known` still running (the same process: pid and start time; not a zombie), as they are now. */
export async function stillRunning(known: readonly ProcessEntry[]): Promise<ProcessEntry[]> {
  if (known.length === 0) return [];
  const now = new Map((await readProcesses(known.map((entry) => entry.pid))).map((e) => [e.pid, e]));
  const running: ProcessEntry[] = [];
  for (const entry of known) {
    const current = now.get(entry.pid);
    if (current && current.started === entry.started && !current.zombie) running.push(current);
  }
  return running;
}

/** `postgres (pid 4242: postgres: checkpointer)`: a process named for a person reading the terminal. */
export function describeProcess(owner: string, entry: ProcessEntry): string {
  const command = entry.command.length > 60 ? `${entry.command.slice(0, 57)}...` : entry.command;
  return `${owner} (pid ${entry.pid}${command ? `: ${command}` : ''})`;
}

async function fromProc(pids?: readonly number[]): Promise<ProcessEntry[]> {
  const all = pids ?? (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const entries = await Promise.all(all.map((pid) => procEntry(pid, pids !== undefined)));
  return entries.filter((entry) => entry !== undefined);
}

async function procEntry(pid: number, withCommand: boolean): Promise<ProcessEntry | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses, so fields count from its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = withCommand
      ? (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim()
      : '';
    return {
      pid,
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      zombie: fields[0] === 'Z' || fields[0] === 'X',
      // Field 22 of stat (starttime, in clock ticks since boot); 20 after the state.
      started: fields[19] ?? '',
      command,
    };
  } catch {
    return undefined; // gone between the listing and the read
  }
}

/** The same from `ps`, for systems without `/proc`. Exported for its test, which runs on Linux. */
export async function fromPs(pids?: readonly number[]): Promise<ProcessEntry[]> {
  // lstart is five words (`Wed Dec  2 16:06:33 2026`); args, last, may hold any.
  const args = ['-o', 'pid=,ppid=,pgid=,stat=,lstart=,args=', ...(pids ? ['-p', pids.join(',')] : ['-A'])];
  const stdout = await promisify(execFile)('ps', args).then(
    (result) => result.stdout,
    // ps exits 1 when none of the pids exists.
    (error: { code?: number; stdout?: string }) => {
      if (error.code === 1) return error.stdout ?? '';
      throw error;
    },
  );
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => words.length >= 9)
    .map((words) => ({
      pid: Number(words[0]),
      ppid: Number(words[1]),
      pgid: Number(words[2]),
      zombie: words[3]?.startsWith('Z') ?? false,
      started: words.slice(4, 9).join(' '),
      command: words.slice(9).join(' '),
    }));
}
