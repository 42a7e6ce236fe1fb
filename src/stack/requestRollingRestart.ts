import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackInfo } from './stackFile.ts';

const TIMEOUT_MS = 10 * 60_000;

/**
 * `steadfast restart --rolling`: asks the supervisor of the local stack (SIGUSR2) for a rolling restart
 * and waits for its outcome in stack.json. Returns the exit code: 0 done, 1 failed or no stack.
 */
export async function requestRollingRestart(dataDir: string): Promise<number> {
  const path = join(dataDir, 'stack.json');
  const read = async () => JSON.parse(await readFile(path, 'utf8')) as StackInfo;
  let info: StackInfo;
  try {
    info = await read();
    process.kill(info.pids.supervisor, 0);
  } catch {
    process.stderr.write(
      `steadfast restart: no running stack in ${dataDir} (start one with \`steadfast start\`)\n`,
    );
    return 1;
  }
  const asked = Date.now();
  process.kill(info.pids.supervisor, 'SIGUSR2');
  process.stdout.write(`rolling restart of ${info.instances.length} instance(s)...\n`);
  while (Date.now() - asked < TIMEOUT_MS) {
    await sleep(250);
    const run = (await read().catch(() => info)).rollingRestart;
    if (!run || Date.parse(run.startedAt) < asked - 1000 || run.state === 'running') continue;
    if (run.state === 'done') {
      process.stdout.write('rolling restart done\n');
      return 0;
    }
    process.stderr.write(`rolling restart failed: ${run.error ?? 'see the stack log'}\n`);
    return 1;
  }
  process.stderr.write('steadfast restart: no outcome within 10 minutes; see the stack log\n');
  return 1;
}
