import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type LogSource, readLog, resolveLogSources } from './logSources.ts';
import { terminalSafe } from './terminalSafe.ts';

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
  /** Every line of the same request or trace, in every service's log, in time order (the first 1000). */
  related: FoundLine[];
  /** Lines of the same request or trace past the first 1000, counted, not kept. */
  omitted: number;
  /** The run's timeout ended the search before every log was read: "not found" is then not an answer. */
  timedOut: boolean;
}

const MAX_RELATED = 1000;

/**
 * The fields that tie a line to others: its request, and its trace under the name the OpenTelemetry log
 * data model gives it or the one earlier versions wrote (their log files are still read).
 */
const LINKING_FIELDS = ['requestId', 'trace_id', 'traceId'] as const;

/**
 * One error whole: the line with its errorId and stack, its request line, and the lines of the same
 * requestId or trace across every log read (`trace_id`, or `traceId` as logs of earlier versions name it). Two passes over the files; standard input is spooled to
 * a temporary file first, since it cannot be read twice.
 */
export async function lookupError(
  logArguments: string[],
  errorId: string,
  options: { stdin?: Readable; signal?: AbortSignal } = {},
): Promise<ErrorLookup> {
  const { signal } = options;
  let spool: string | undefined;
  const sources: LogSource[] = [];
  for (const argument of logArguments) {
    if (argument === '-') {
      spool = await mkdtemp(join(tmpdir(), 'steadfast-triage-'));
      const path = join(spool, 'stdin.log');
      await pipeline(options.stdin ?? process.stdin, createWriteStream(path), { signal }).catch((error) => {
        if ((error as Error).name !== 'AbortError') throw error;
      });
      sources.push({ name: 'stdin', path });
    } else sources.push(...(await resolveLogSources(argument)));
  }
  try {
    const ids = new Set<string>();
    let error: FoundLine | undefined;
    await scan(sources, [errorId], signal, (found) => {
      for (const field of LINKING_FIELDS) {
        const value = found.record[field];
        if (typeof value === 'string') ids.add(value);
      }
      if (typeof found.record.stack === 'string' || !error) error = found;
    });
    const related: FoundLine[] = [];
    let omitted = 0;
    if (ids.size)
      await scan(sources, [...ids], signal, (found) => {
        if (related.length < MAX_RELATED) related.push(found);
        else omitted++;
      });
    related.sort((a, b) => String(a.record.time).localeCompare(String(b.record.time)));
    const timedOut = Boolean(signal?.aborted);
    return { schemaVersion: 1, errorId, found: Boolean(error), error, related, omitted, timedOut };
  } finally {
    if (spool) await rm(spool, { recursive: true, force: true });
  }
}

async function scan(
  sources: LogSource[],
  needles: string[],
  signal: AbortSignal | undefined,
  onMatch: (line: FoundLine) => void,
): Promise<void> {
  for (const source of sources) {
    // Lines cut at the limit, blank lines and sources that are not regular files have nothing to find.
    await readLog(
      source,
      {
        line: (line, lineNo) => {
          // A substring test first: JSON.parse only for the few lines that can match.
          if (!needles.some((needle) => line.includes(needle))) return;
          let record: unknown;
          try {
            record = JSON.parse(line);
          } catch {
            return;
          }
          if (typeof record !== 'object' || record === null) return;
          const fields = record as Record<string, unknown>;
          const linked = (needle: string) =>
            fields.errorId === needle || LINKING_FIELDS.some((field) => fields[field] === needle);
          if (needles.some(linked))
            onMatch({
              at: `${source.name}:${lineNo}`,
              record: withinDepth(record) as Record<string, unknown>,
            });
        },
        cut: () => {},
        blank: () => {},
      },
      { signal },
    );
  }
}

/** The lookup as text. Every piece from a log goes through terminalSafe: a log line cannot drive the terminal. */
export function renderLookup(lookup: ErrorLookup): string {
  const safe = (value: unknown) => terminalSafe(typeof value === 'string' ? value : shown(value));
  const cut = lookup.timedOut ? ' (the timeout ended the search before every log was read)' : '';
  if (!lookup.error) return `${safe(lookup.errorId)}: not found in the logs read${cut}\n`;
  const { stack, ...fields } = lookup.error.record;
  const out = [`${safe(lookup.errorId)} at ${safe(lookup.error.at)}`];
  for (const [name, value] of Object.entries(fields)) out.push(`  ${safe(name)}: ${safe(value)}`);
  if (typeof stack === 'string') out.push('  stack:', ...stack.split('\n').map((l) => `    ${safe(l)}`));
  const more = lookup.omitted ? `, and ${lookup.omitted} more not shown` : '';
  out.push('', `Lines of the same request or trace (${lookup.related.length}${more})${cut}:`);
  for (const { at, record } of lookup.related) {
    const fields = [record.time, record.service ?? '', record.level ?? '', record.msg ?? ''].map(safe);
    out.push(`  ${fields.join(' ')}  ${safe(at)}`);
  }
  return `${out.join('\n')}\n`;
}

/** How deep a record is kept: below this, a nested value is replaced by a note (it could not be printed). */
const MAX_DEPTH = 32;

/** The record with anything nested deeper than MAX_DEPTH replaced by a note, so it can always be printed. */
function withinDepth(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '(nested too deep to show)';
  if (Array.isArray(value)) return value.map((item) => withinDepth(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // A data property even for "__proto__": defineProperty, not assignment, which would set the prototype.
    Object.defineProperty(copy, key, {
      value: withinDepth(item, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/** A field's value as one line; one nested too deep to write out says so instead of failing. */
function shown(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '(nested too deep to show)';
  }
}
