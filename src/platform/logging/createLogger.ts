import pino, { type Logger } from 'pino';
import roll from 'pino-roll';
import type { LogEventName } from '../../contract/logEvents.ts';
import { activeTraceFields } from '../tracing/traceContext.ts';

export interface LoggerOptions {
  service: string;
  version: string;
  /** On every line, with the version: triage tells which build logged an error by it. */
  commit: string;
  level: string;
  /** Also write to this file, rotated by size, keeping `retention` old files. */
  file?: { path: string; maxSize: string; retention: number } | undefined;
  /** The service's own paths that may carry a secret (its settings that are secrets, its users' tokens). */
  redact?: readonly string[];
  /** Also ship every line here (a collector off the machine), before it is written anywhere else. */
  ship?: { write(line: string): void } | undefined;
}

/**
 * Paths that may carry a secret in any service's log objects: bearer tokens of the requests, passwords,
 * the database URL (its password). A service adds its own (`redact`).
 */
const PLATFORM_REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'password',
  '*.password',
  'DATABASE_URL',
];

/**
 * The trace of the work a line is written in (a breaker opening during a call, a stock batch's
 * failure), unless its logger names one already: a request's logger is bound to its span when it is
 * made, so that even the lines written outside the request's context (its client's departure) carry it.
 */
function traceOfLine(_object: object, _level: number, logger: Logger): object {
  const bindings = (logger as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym];
  // A new object each time: pino merges the line's own fields into what the mixin returns, so a shared
  // one would carry every line's fields into the next.
  if (bindings?.includes('"trace_id"')) return {};
  return activeTraceFields() ?? {};
}

const redaction = (own: readonly string[] = []) => ({
  paths: [...new Set([...PLATFORM_REDACTED_PATHS, ...own])],
  censor: '[REDACTED]',
});

/**
 * A log file's permissions. Its lines name users, carts and errorIds: the owner writes, a log shipper in
 * its group reads (as Debian's own logs are kept), no one else.
 */
export const LOG_FILE_MODE = 0o640;

/** How often a log file that cannot be written is said so on standard output. */
const FILE_FAILURE_NOTICE_MS = 60_000;

export async function createLogger(options: LoggerOptions): Promise<Logger> {
  const stdout = pino.destination({ dest: 1, sync: true });
  // The collector's first: a line the local copy holds was handed to it before, however soon the process dies.
  const streams: pino.StreamEntry[] = [
    ...(options.ship ? [{ level: 'trace' as const, stream: options.ship }] : []),
    { level: 'trace', stream: stdout },
  ];
  if (options.file) {
    const fileStream = await roll({
      file: options.file.path,
      size: options.file.maxSize,
      limit: { count: options.file.retention },
      mkdir: true,
      mode: LOG_FILE_MODE,
    });
    // A full disk (ENOSPC) or a lost file must not take the service down with it (the seed article's
    // mistake 5): the lines go on reaching standard output, which says so once a minute.
    let noticedAt = Number.NEGATIVE_INFINITY;
    fileStream.on('error', (error: NodeJS.ErrnoException) => {
      if (Date.now() - noticedAt < FILE_FAILURE_NOTICE_MS) return;
      noticedAt = Date.now();
      stdout.write(
        `${JSON.stringify({
          level: 'error',
          time: new Date().toISOString(),
          service: options.service,
          version: options.version,
          commit: options.commit,
          errorClass: error.code ?? error.name,
          reason: error.message,
          msg: 'log_file_write_failed' satisfies LogEventName,
        })}\n`,
      );
    });
    streams.push({ level: 'trace', stream: fileStream });
  }
  return pino(
    {
      level: options.level,
      // The pid on every line tells one run of an instance from the next in a collector's file of it:
      // lines that stop without a shutdown line, then go on under another pid, are a process that died.
      base: { service: options.service, version: options.version, commit: options.commit, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: 'msg',
      errorKey: 'err',
      redact: redaction(options.redact),
      mixin: traceOfLine,
    },
    pino.multistream(streams),
  );
}

/** A logger for code paths that run before configuration is known (preflight, CLI). */
export function createBootLogger(service: string, version: string, fd: 1 | 2 = 1): Logger {
  return pino(
    {
      level: 'info',
      base: { service, version, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: redaction(),
    },
    pino.destination({ dest: fd, sync: true }),
  );
}

export type { Logger };
