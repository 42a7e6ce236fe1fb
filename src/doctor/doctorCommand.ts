import Value from 'typebox/value';
import { parseOptions } from '../cli/parseOptions.ts';
import { dataDirOf } from '../stack/dataDir.ts';
import { runChecks } from './checks.ts';
import { type Gathered, gather, NotHaproxyConfigError } from './gather.ts';
import { DOCTOR_SCHEMA_VERSION, DoctorReport } from './report.ts';

export const DOCTOR_USAGE = `Usage: steadfast doctor [--haproxy-config <file>] [--instances N] [--format text|json]
Checks the deployment's configuration against itself, before it bites: HAProxy's file (the shipped
ops/haproxy/haproxy.cfg by default, its "\${NAME-default}" placeholders from this environment), the
checkout's settings from this environment, PostgreSQL's max_connections (over DATABASE_URL, when it
answers) and, when a local stack runs, its instances in HAProxy. Exit 0: nothing found; 1: findings;
2: bad usage; 3: the doctor itself failed.`;

/** The exit codes of `steadfast doctor`, documented in docs/operations.md. */
export const DOCTOR_EXIT = { clean: 0, findings: 1, usage: 2, failed: 3 } as const;

export interface DoctorIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: DoctorIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** `steadfast doctor`: returns the exit code, never throws. */
export async function runDoctor(
  args: string[],
  env: NodeJS.ProcessEnv,
  io: DoctorIo = processIo,
): Promise<number> {
  const usage = (problem: string) => {
    io.stderr(`steadfast doctor: ${problem}\n\n${DOCTOR_USAGE}\n`);
    return DOCTOR_EXIT.usage;
  };
  let values: { 'haproxy-config'?: string; instances?: string; format?: string; help?: boolean };
  try {
    values = parseOptions(args, {
      'haproxy-config': { type: 'string' },
      instances: { type: 'string' },
      format: { type: 'string', default: 'text' },
      help: { type: 'boolean', default: false },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) {
    io.stdout(`${DOCTOR_USAGE}\n`);
    return DOCTOR_EXIT.clean;
  }
  if (values.format !== 'text' && values.format !== 'json') return usage('--format is text or json');
  const instances = values.instances === undefined ? undefined : wholeNumber(values.instances);
  if (values.instances !== undefined && (instances === undefined || instances < 1 || instances > 1000))
    return usage('--instances takes a whole number from 1 to 1000');
  let gathered: Gathered;
  try {
    gathered = await gather({
      env,
      haproxyConfig: values['haproxy-config'],
      instances,
      dataDir: dataDirOf(env),
    });
  } catch (error) {
    if (error instanceof NotHaproxyConfigError) return usage(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES' || code === 'ENOTDIR')
      return usage(`cannot read ${(error as NodeJS.ErrnoException).path ?? 'a file'}: ${code}`);
    io.stderr(`steadfast doctor: failed: ${(error as Error).message}\n`);
    return DOCTOR_EXIT.failed;
  }
  const report = buildReport(gathered, new Date());
  if (!Value.Check(DoctorReport, report)) {
    const [first] = Value.Errors(DoctorReport, report);
    io.stderr(
      `steadfast doctor: failed: the report does not match its schema (${first?.instancePath} ${first?.message})\n`,
    );
    return DOCTOR_EXIT.failed;
  }
  io.stdout(values.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
  return report.status === 'clean' ? DOCTOR_EXIT.clean : DOCTOR_EXIT.findings;
}

/** The checks' outcomes as the report; settings the service would refuse are findings of their own. */
export function buildReport(gathered: Gathered, now: Date): DoctorReport {
  const settingFindings = gathered.settingProblems.map((problem) => ({
    check: 'settings' as const,
    code: 'setting_invalid',
    summary: `the service would refuse to start: ${problem}`,
    setting: /'([A-Z0-9_]+)'/.exec(problem)?.[1] ?? '',
    file: 'environment',
    current: problem,
    fix: 'set it as its description says (docs/configuration.md)',
  }));
  const outcomes = gathered.deployment ? runChecks(gathered.deployment) : [];
  const findings = [...settingFindings, ...outcomes.flatMap((o) => o.findings)];
  return {
    schemaVersion: DOCTOR_SCHEMA_VERSION,
    generatedAt: now.toISOString(),
    status: findings.length ? 'findings' : 'clean',
    findings,
    checks: [
      ...(settingFindings.length
        ? [{ check: 'settings' as const, state: 'failed' as const, detail: 'no other check ran' }]
        : []),
      ...outcomes.map(({ check, state, detail }) => ({ check, state, detail })),
    ],
    read: gathered.read,
  };
}

function renderText(report: DoctorReport): string {
  const lines: string[] = [];
  for (const f of report.findings) {
    lines.push(
      `FINDING ${f.code}: ${f.summary}`,
      `  change: ${f.setting} (${f.file}); now ${f.current}`,
      `  fix:    ${f.fix}`,
    );
  }
  if (report.findings.length) lines.push('');
  for (const c of report.checks) lines.push(`${c.state.padEnd(7)} ${c.check}: ${c.detail}`);
  for (const r of report.read.filter((s) => s.state === 'unavailable'))
    lines.push(`not read ${r.source}: ${r.detail}`);
  lines.push(report.findings.length ? `${report.findings.length} finding(s)` : 'clean: nothing found');
  return `${lines.join('\n')}\n`;
}

/** A whole number written in decimal digits. */
function wholeNumber(text: string): number | undefined {
  return /^[0-9]{1,9}$/.test(text) ? Number(text) : undefined;
}
