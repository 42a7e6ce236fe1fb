/**
 * A server that is not a Node.js program (Prometheus, Alertmanager) as a child of `steadfast start`: it
 * is started here, announced once its readiness URL answers, and stopped when the supervisor says so,
 * so that the supervisor keeps it, logs it and restarts it as it does every service.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const command = process.env.BINARY_COMMAND;
const args = JSON.parse(process.env.BINARY_ARGS ?? '[]') as string[];
const readyUrl = process.env.BINARY_READY_URL;
if (!command || !readyUrl) throw new Error('BINARY_COMMAND and BINARY_READY_URL are required');

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
child.on('exit', (code, signal) => {
  if (!stopping) process.stderr.write(`${command} exited (code ${code}, signal ${signal})\n`);
  process.exit(stopping ? 0 : 1);
});

const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);

for (;;) {
  const ready = await fetch(readyUrl).then(
    (response) => response.ok,
    () => false,
  );
  if (ready) break;
  await sleep(200);
}
process.send?.({ type: 'listening', url: new URL(readyUrl).origin, pid: child.pid });
