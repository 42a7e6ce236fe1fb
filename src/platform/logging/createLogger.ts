import pino, { type Logger } from 'pino';
import roll from 'pino-roll';

export interface LoggerOptions {
  service: string;
  version: string;
  /** On every line, with the version: triage tells which build logged an error by it. */
  commit: string;
  level: string;
  /** Also write to this file, rotated by size, keeping `retention` old files. */
  file?: { path: string; maxSize: string; retention: number } | undefined;
}

/**
 * Paths that may carry a secret anywhere they appear in a log object. Payment tokens and bearer
 * tokens are the ones a checkout sees; keys and passwords the ones its configuration holds.
 */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'paymentToken',
  '*.paymentToken',
  'password',
  '*.password',
  'PAYMENT_API_KEY',
  'JWT_SECRET',
  'DATABASE_URL',
];

export async function createLogger(options: LoggerOptions): Promise<Logger> {
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: pino.destination({ dest: 1, sync: true }) }];
  if (options.file) {
    const fileStream = await roll({
      file: options.file.path,
      size: options.file.maxSize,
      limit: { count: options.file.retention },
      mkdir: true,
    });
    streams.push({ level: 'trace', stream: fileStream });
  }
  return pino(
    {
      level: options.level,
      base: { service: options.service, version: options.version, commit: options.commit },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: 'msg',
      errorKey: 'err',
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    },
    pino.multistream(streams),
  );
}

/** A logger for code paths that run before configuration is known (preflight, CLI). */
export function createBootLogger(service: string, version: string): Logger {
  return pino(
    {
      level: 'info',
      base: { service, version },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}

export type { Logger };
