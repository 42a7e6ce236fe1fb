/**
 * One line of PostgreSQL's own log, in its default `log_line_prefix` (`%m [%p] `): the time with its
 * zone, the process id, the severity and the message, as the server writes it to stderr or to a file:
 *
 *   2026-12-03 07:50:22.972 UTC [13932] FATAL:  sorry, too many clients already
 *
 * Read as evidence, not passed over: its warnings and worse are the database's own words for what
 * failed (a full disk, too many clients, a crash), clustered with the services' lines that no rule knows.
 */

const LINE =
  /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) ([A-Z]{2,5}|[+-]\d{2}(?::?\d{2})?) \[(\d{1,10})\] ([A-Z]+[1-5]?): {1,2}(.*)$/;

/** PostgreSQL's severities, as the levels of the services' lines (pino's names). */
const LEVELS: Record<string, string> = {
  DEBUG1: 'debug',
  DEBUG2: 'debug',
  DEBUG3: 'debug',
  DEBUG4: 'debug',
  DEBUG5: 'debug',
  INFO: 'info',
  NOTICE: 'info',
  LOG: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  FATAL: 'fatal',
  PANIC: 'fatal',
  // The lines that follow an entry and tell more of it.
  DETAIL: 'info',
  HINT: 'info',
  QUERY: 'info',
  CONTEXT: 'info',
  LOCATION: 'info',
  STATEMENT: 'info',
};

/** What the server's log lines are called in a report: the service they come from. */
export const POSTGRES_SERVICE = 'postgresql';

export interface PostgresLine {
  time: number;
  level: string;
  pid: number;
  /** The severity and the message: `FATAL: sorry, too many clients already`. */
  msg: string;
}

export function looksLikePostgresLine(text: string): boolean {
  return LINE.test(text);
}

/** The line read, or undefined when it is not one of PostgreSQL's, or its time or severity cannot be read. */
export function parsePostgresLine(text: string): PostgresLine | undefined {
  const match = LINE.exec(text);
  if (!match) return undefined;
  const [, date, clock, zone, pid, severity, message] = match as unknown as string[];
  const level = Object.hasOwn(LEVELS, severity as string) ? LEVELS[severity as string] : undefined;
  // A zone's abbreviation other than UTC's says no offset a reader can know (CET, EST are ambiguous).
  const offset =
    zone === 'UTC' || zone === 'GMT'
      ? 'Z'
      : /^[+-]/.test(zone as string)
        ? normalisedOffset(zone as string)
        : '?';
  const time = Date.parse(`${date}T${clock}${offset}`);
  if (!level || !Number.isFinite(time)) return undefined;
  return { time, level, pid: Number(pid), msg: `${severity}: ${message}` };
}

/** `+01`, `+0100` and `+01:00` as `+01:00`. */
function normalisedOffset(zone: string): string {
  const digits = zone.slice(1).replace(':', '');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}`;
}
