import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Version and commit of the running build: the deploy marker that `service_started` carries. */
export interface BuildInfo {
  version: string;
  commit: string;
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  cached = { version: pkg.version, commit: process.env.STEADFAST_COMMIT ?? gitCommit() };
  return cached;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: new URL('../../..', import.meta.url),
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2000,
    })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}
