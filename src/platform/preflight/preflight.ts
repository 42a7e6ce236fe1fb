import { access, constants } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { logEvent } from '../../contract/logEvents.ts';
import { type MigrationDirs, migrationStatus } from '../database/migrations.ts';

/** A startup check: resolves to the problems it found, each a sentence an operator can act on. */
export type PreflightCheck = () => Promise<string[]>;

/** Runs every check, never stopping at the first problem, and returns all problems found. */
export async function runPreflight(checks: readonly PreflightCheck[]): Promise<string[]> {
  const results = await Promise.all(
    checks.map((check) => check().catch((error: Error) => [`Preflight check failed: ${error.message}`])),
  );
  return results.flat();
}

/** Prints each problem as a `STARTUP_FAILURE:` line on stderr and one structured log line, then sets exit code 1. */
export function reportStartupFailure(problems: readonly string[], logger: Logger): void {
  for (const problem of problems) process.stderr.write(`STARTUP_FAILURE: ${problem}\n`);
  logEvent(
    logger,
    'fatal',
    'startup_failure',
    { problems: [...problems] },
    `startup failed: ${problems.length} problem(s)`,
  );
  process.exitCode = 1;
}

/** Where a database URL points, without its credentials. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/** The database answers within the connect timeout and its schema is at the version this build expects. */
export function databaseCheck(
  url: string,
  migrations: MigrationDirs,
  connectTimeoutMs: number,
): PreflightCheck {
  return async () => {
    let status: Awaited<ReturnType<typeof migrationStatus>>;
    try {
      status = await migrationStatus(url, migrations, connectTimeoutMs);
    } catch (error) {
      const why = (error as { code?: string }).code ?? (error as Error).message;
      return [`Database at ${describeDatabase(url)} did not answer within ${connectTimeoutMs} ms (${why}).`];
    }
    if (status.version < status.expected) {
      return [
        `database schema is at version ${status.version}, this build expects ${status.expected}: run 'steadfast migrate'`,
      ];
    }
    return [];
  };
}

/** Every configured file path exists: for a file to be written, its directory must exist and be writable. */
export function pathsCheck(
  paths: Record<string, { path: string; kind: 'file-to-write' | 'file' } | undefined>,
) {
  return async (): Promise<string[]> => {
    const problems: string[] = [];
    for (const [setting, entry] of Object.entries(paths)) {
      if (!entry) continue;
      const target = entry.kind === 'file-to-write' ? dirname(entry.path) : entry.path;
      const mode = entry.kind === 'file-to-write' ? constants.W_OK : constants.R_OK;
      try {
        await access(target, mode);
      } catch {
        problems.push(`Path for '${setting}' does not exist or is not accessible: ${target}`);
      }
    }
    return problems;
  };
}
