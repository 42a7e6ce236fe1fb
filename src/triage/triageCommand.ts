import { parseArgs } from 'node:util';
import Value from 'typebox/value';
import { diagnose } from './diagnose.ts';
import { lookupError, renderLookup } from './errorLookup.ts';
import { gather, localStackSources, type Sources } from './gather.ts';
import { renderText } from './renderText.ts';
import { TriageReport } from './report.ts';

export const TRIAGE_USAGE = `Usage: steadfast triage [--logs <file|dir|->]... [--metrics <url|file>]... [--health <url>]...
                        [--since 30m] [--format text|json] [--error-id ERR-...]
With no source it reads the local stack (stack.json in the data directory): its logs, every service's
/metrics and every checkout instance's /health. Exit 0: healthy; 1: a problem found (or the error id
not found); 2: bad usage.`;

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `steadfast triage`: returns the exit code. */
export async function runTriage(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let values: {
    logs?: string[];
    metrics?: string[];
    health?: string[];
    since?: string;
    format?: string;
    'error-id'?: string;
  };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        logs: { type: 'string', multiple: true },
        metrics: { type: 'string', multiple: true },
        health: { type: 'string', multiple: true },
        since: { type: 'string' },
        format: { type: 'string', default: 'text' },
        'error-id': { type: 'string' },
      },
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.format !== 'text' && values.format !== 'json') return usage('--format is text or json');
  const since = values.since ? DURATION.exec(values.since) : undefined;
  if (values.since && !since) return usage('--since takes a duration such as 90s, 30m, 2h or 1d');
  let sources: Sources = {
    logs: values.logs ?? [],
    metrics: values.metrics ?? [],
    health: values.health ?? [],
  };
  if (!sources.logs.length && !sources.metrics.length && !sources.health.length) {
    const dataDir = env.STEADFAST_DATA_DIR ?? '.steadfast';
    try {
      sources = await localStackSources(dataDir);
    } catch {
      return usage(`no source given, and no local stack in ${dataDir} (stack.json)`);
    }
  }
  if (since) sources.since = Date.now() - Number(since[1]) * UNIT_MS[since[2] as keyof typeof UNIT_MS];
  const json = values.format === 'json';
  try {
    const errorId = values['error-id'];
    if (errorId) {
      const lookup = await lookupError(sources.logs, errorId);
      process.stdout.write(json ? `${JSON.stringify(lookup, null, 2)}\n` : renderLookup(lookup));
      return lookup.found ? 0 : 1;
    }
    const report = diagnose(await gather(sources));
    if (json && !Value.Check(TriageReport, report))
      throw new Error('triage: the report does not match its own schema');
    process.stdout.write(
      json
        ? `${JSON.stringify(report, null, 2)}\n`
        : renderText(report, { color: Boolean(process.stdout.isTTY) && !env.NO_COLOR }),
    );
    return report.status === 'healthy' ? 0 : 1;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') return usage((error as Error).message);
    throw error;
  }
}

function usage(problem: string): number {
  process.stderr.write(`steadfast triage: ${problem}\n\n${TRIAGE_USAGE}\n`);
  return 2;
}
