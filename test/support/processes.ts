import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/**
 * Runs `steadfast <args>` to its end, with the test's environment less what `unset` names, plus `env`; in
 * `cwd` when given (where it would read a `.env`).
 */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { unset?: (name: string) => boolean; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { unset = () => false, cwd } = options;
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !unset(name)));
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'exit');
  return { code: code as number, stdout, stderr };
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The pids of a process's children (those whose command line matches `pattern`, when given). */
export function childrenOf(pid: number, pattern?: string): number[] {
  try {
    const args = ['-P', String(pid), ...(pattern ? ['-f', pattern] : [])];
    return execFileSync('pgrep', args).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
