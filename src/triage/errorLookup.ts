import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type LogSource, readLines, resolveLogSources } from './logSources.ts';

export interface FoundLine {
  at: string;
  record: Record<string, unknown>;
}

export interface ErrorLookup {
  schemaVersion: 1;
  errorId: string;
  found: boolean;
  /** The line that logged the error, with its stack. */
  error?: FoundLine;
  /** Every line of the same request or trace, in every service's log, in time order. */
  related: FoundLine[];
}

/**
 * One error whole: the line with its errorId and stack, its request line, and the lines of the same
 * requestId or traceId across every log read. Two passes over the files; standard input is spooled to
 * a temporary file first, since it cannot be read twice.
 */
export async function lookupError(logArguments: string[], errorId: string): Promise<ErrorLookup> {
  let spool: string | undefined;
  const sources: LogSource[] = [];
  for (const argument of logArguments) {
    if (argument === '-') {
      spool = await mkdtemp(join(tmpdir(), 'steadfast-triage-'));
      const path = join(spool, 'stdin.log');
      await pipeline(process.stdin, createWriteStream(path));
      sources.push({ name: 'stdin', path });
    } else sources.push(...(await resolveLogSources(argument)));
  }
  try {
    const ids = new Set<string>();
    let error: FoundLine | undefined;
    await scan(sources, [errorId], (found) => {
      for (const field of ['requestId', 'traceId']) {
        const value = found.record[field];
        if (typeof value === 'string') ids.add(value);
      }
      if (typeof found.record.stack === 'string' || !error) error = found;
    });
    const related: FoundLine[] = [];
    if (ids.size) await scan(sources, [...ids], (found) => related.push(found));
    related.sort((a, b) => String(a.record.time).localeCompare(String(b.record.time)));
    return { schemaVersion: 1, errorId, found: Boolean(error), error, related };
  } finally {
    if (spool) await rm(spool, { recursive: true, force: true });
  }
}

async function scan(
  sources: LogSource[],
  needles: string[],
  onMatch: (line: FoundLine) => void,
): Promise<void> {
  for (const source of sources) {
    let lineNo = 0;
    for await (const line of readLines(source)) {
      lineNo++;
      // A substring test first: JSON.parse only for the few lines that can match.
      if (!needles.some((needle) => line.includes(needle))) continue;
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        if (needles.some((n) => record.errorId === n || record.requestId === n || record.traceId === n))
          onMatch({ at: `${source.name}:${lineNo}`, record });
      } catch {}
    }
  }
}

export function renderLookup(lookup: ErrorLookup): string {
  if (!lookup.error) return `${lookup.errorId}: not found in the logs read\n`;
  const { stack, ...fields } = lookup.error.record;
  const out = [`${lookup.errorId} at ${lookup.error.at}`];
  for (const [name, value] of Object.entries(fields))
    out.push(`  ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  if (typeof stack === 'string') out.push('  stack:', ...stack.split('\n').map((l) => `    ${l}`));
  out.push('', `Lines of the same request or trace (${lookup.related.length}):`);
  for (const { at, record } of lookup.related) {
    out.push(`  ${record.time} ${record.service ?? ''} ${record.level ?? ''} ${record.msg ?? ''}  ${at}`);
  }
  return `${out.join('\n')}\n`;
}
