/**
 * A server that is not a Node.js program (Prometheus, Alertmanager) as a child of `steadfast start`: it
 * is started here, announced once its readiness URL answers, and stopped when the supervisor says so,
 * so that the supervisor keeps it, logs it and restarts it as it does every service.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopProcessTree } from './stopProcessTree.ts';

const command = process.env.BINARY_COMMAND;
const args = JSON.parse(process.env.BINARY_ARGS ?? '[]') as string[];
const readyUrl = process.env.BINARY_READY_URL;
if (!command || !readyUrl) throw new Error('BINARY_COMMAND and BINARY_READY_URL are required');
/**
 * The pid file of a process the server starts outside its own tree (Patroni's postmaster, which it
 * detaches so that it outlives a restart of Patroni): stopped with the server, paused or not.
 */
const pidFile = process.env.BINARY_PID_FILE;
/** A server that refuses to run as root (PostgreSQL under Patroni) runs as this uid:gid when given. */
const runAs = process.env.BINARY_RUN_AS ? process.env.BINARY_RUN_AS.split(':').map(Number) : [];
const [uid, gid] = runAs;

/** Then SIGKILL: a server that hangs in its shutdown must not outlive this wrapper. */
const STOP_TIMEOUT_MS = 10000;

const child = spawn(command, args, {
  stdio: ['ignore', 'inherit', 'inherit'],
  ...(uid !== undefined && gid !== undefined ? { uid, gid } : {}),
});
let stopping = false;
child.on('exit', (code, signal) => {
  if (stopping) return;
  process.stderr.write(`${command} exited (code ${code}, signal ${signal})\n`);
  process.exit(1);
});

const stop = async () => {
  if (stopping || !child.pid) return;
  stopping = true;
  const { survivors } = await stopProcessTree({
    roots: [child.pid, ...(await detachedPid())],
    ask: () => child.kill('SIGTERM'),
    timeoutMs: STOP_TIMEOUT_MS,
    onKill: () =>
      process.stderr.write(`${command} did not stop within ${STOP_TIMEOUT_MS / 1000} s: SIGKILL\n`),
  });
  process.exit(survivors.length ? 1 : 0);
};
/** The detached process of `pidFile`, when it runs (the file's first line names it). */
async function detachedPid(): Promise<number[]> {
  if (!pidFile) return [];
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 1) return [];
  try {
    process.kill(pid, 0);
    return [pid];
  } catch {
    return [];
  }
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);

const ready = new URL(readyUrl);

/** Ready once the URL answers 2xx, or, for `tcp://host:port` (a syslog collector), once it accepts. */
const isReady = (url: URL): Promise<boolean> =>
  url.protocol === 'tcp:'
    ? new Promise((resolve) => {
        const socket = connect({ host: url.hostname, port: Number(url.port) });
        socket.once('connect', () => resolve(true));
        socket.once('error', () => resolve(false));
        socket.setTimeout(1000, () => socket.destroy());
        socket.once('close', () => resolve(false));
        socket.once('connect', () => socket.end());
      })
    : fetch(url).then(
        (response) => response.ok,
        () => false,
      );

while (!(await isReady(ready))) await sleep(200);
// A tcp:// URL has no origin ("null"): it is its own address.
process.send?.({
  type: 'listening',
  url: ready.protocol === 'tcp:' ? ready.href : ready.origin,
  pid: child.pid,
});
