import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { terminalSafe } from '../../src/triage/terminalSafe.ts';
import { CLI } from '../support/processes.ts';

/**
 * What the tests of triage on untrusted evidence share: the exit codes it may end with, the published
 * schema as an outside consumer checks it (ajv, not the TypeBox the command uses), a terminal-safety check
 * of text output, a directory of every shape a logs directory can hold, and the real CLI run as a child
 * with its peak memory measured by the kernel.
 */

/** The exit codes of a triage run that got its arguments right: healthy, problem, unknown. */
export const VERDICT_CODES = [0, 1, 3];
const STATUS_OF_CODE: Record<number, string> = { 0: 'healthy', 1: 'problem', 3: 'unknown' };

const ajv = new Ajv({ strict: true, allErrors: true });
// The one format the schema uses; the check is RFC 3339's shape and a date that exists.
ajv.addFormat('date-time', {
  type: 'string',
  validate: (text: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) &&
    !Number.isNaN(Date.parse(text)),
});
const validate = ajv.compile(
  JSON.parse(await readFile(new URL('../../docs/triage-report.schema.json', import.meta.url), 'utf8')),
);

/** A JSON report as a consumer reads it: valid JSON, valid against the published schema, its status its code's. */
export function assertReport(
  stdout: string,
  code: number,
): { status: string; headline: string; read: Record<string, unknown> } {
  const report = JSON.parse(stdout) as { status: string; headline: string; read: Record<string, unknown> };
  const valid = validate(report);
  assert.ok(valid, `against docs/triage-report.schema.json: ${ajv.errorsText(validate.errors)}`);
  assert.equal(report.status, STATUS_OF_CODE[code], `exit ${code} with status ${report.status}`);
  return report;
}

/** Text output: no character a terminal would act on, but the line breaks between its lines. */
export function assertTerminalSafe(text: string): void {
  for (const [index, line] of text.split('\n').entries())
    assert.equal(
      terminalSafe(line),
      line,
      `line ${index + 1} holds a raw control character: ${JSON.stringify(line)}`,
    );
}

/** Nothing on stderr that looks like a crash: a stack trace or Node's report of an uncaught error. */
export function assertNoCrash(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at |Error:|node:internal|Uncaught/m, stderr.slice(0, 2000));
}

/**
 * Adds to `dir` an entry of every shape that is not a plain log file: a FIFO, a directory, a link that
 * loops, one to nothing, one to a device, a corrupt gzip. Named *.log so that triage lists them.
 */
export async function addOddEntries(dir: string): Promise<void> {
  execFileSync('mkfifo', [join(dir, 'fifo.log')]);
  await mkdir(join(dir, 'folder.log'));
  await symlink('loop.log', join(dir, 'loop.log'));
  await symlink('nowhere', join(dir, 'dangling.log'));
  await symlink('/dev/zero', join(dir, 'zero.log'));
  await writeFile(join(dir, 'corrupt.1.log.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]));
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-triage-untrusted-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ChildRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The child's peak resident memory, from the kernel (GNU time's %M), in MiB. */
  peakRssMb: number;
  ms: number;
}

/** `steadfast triage <args>` as a child process, its peak RSS measured by /usr/bin/time. */
export async function runTriageChild(
  args: string[],
  options: { stdin?: 'ignore' | 'open'; killAfterMs?: number } = {},
): Promise<ChildRun> {
  return withTempDir(async (dir) => {
    const rssFile = join(dir, 'rss');
    const started = performance.now();
    const child = spawn(
      '/usr/bin/time',
      ['-f', '%M', '-o', rssFile, process.execPath, CLI, 'triage', ...args],
      {
        stdio: [options.stdin === 'open' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    // A hung triage is itself a failure the caller asserts on (by the time it took), not a hung test.
    const guard = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 120_000);
    const [code] = await once(child, 'exit');
    clearTimeout(guard);
    const ms = performance.now() - started;
    const peakKb = Number((await readFile(rssFile, 'utf8').catch(() => '')).trim().split('\n').pop());
    return { code: code as number, stdout, stderr, peakRssMb: peakKb / 1024, ms };
  });
}
