import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

export interface LandedBuild {
  /** The commit the build is of. */
  commit: string;
  /** Its `steadfast` command (src/cli/main.ts), run by the same Node. */
  cli: string;
  remove: () => Promise<void>;
}

/**
 * The tree of `ref` (the build that landed, `main` by default) checked out beside this one, on this
 * one's node_modules, so that the bench can measure it in the same run as the change. Its dependencies
 * are this tree's: a change that adds one only adds to what the landed build ignores.
 */
export async function landedBuild(ref: string): Promise<LandedBuild> {
  const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short=12', ref]).toString().trim();
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-landed-'));
  const archive = join(dir, 'tree.tar');
  execFileSync('git', ['-C', root, 'archive', '--format=tar', '-o', archive, commit]);
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  await rm(archive);
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return {
    commit,
    cli: join(dir, 'src', 'cli', 'main.ts'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
