import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ManagedProcess } from './ManagedProcess.ts';

/** The first of `names` found on PATH, as an absolute path; undefined when none is installed. */
export function findBinary(names: readonly string[]): string | undefined {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {}
    }
  }
  return undefined;
}

/** Makes supervised processes; `steadfast start` owns how (logs, restarts, terminal). */
export type Supervise = (name: string, entry: string, env: NodeJS.ProcessEnv) => ManagedProcess;

/** A server that is not a Node.js program, supervised like the services: ready once `readyUrl` answers 2xx. */
export function superviseBinary(
  supervise: Supervise,
  name: string,
  command: string,
  args: string[],
  readyUrl: string,
  env: NodeJS.ProcessEnv = {},
): ManagedProcess {
  return supervise(name, './binaryProcess.ts', {
    ...env,
    BINARY_COMMAND: command,
    BINARY_ARGS: JSON.stringify(args),
    BINARY_READY_URL: readyUrl,
  });
}
