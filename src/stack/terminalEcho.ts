import type { LogFieldName } from '../contract/logEvents.ts';

/** What `steadfast start` shows on its terminal of the services' output. */
export type EchoMode = 'quiet' | 'problems' | 'verbose';

const SHOWN_LEVELS = new Set(['warn', 'error', 'fatal']);
/** The fields of a shown line that tell what it is about, as the contract names them. */
const CONTEXT_FIELDS: readonly LogFieldName[] = [
  'errorId',
  'endpoint',
  'statusCode',
  'dependency',
  'reason',
  'attemptId',
];
/** Servers that write logfmt (Prometheus, Alertmanager) name their level too. */
const LOGFMT_QUIET = /\blevel=(debug|info)\b/;
/** HAProxy: its access log and notices stay in its file; alerts and warnings show. */
const HAPROXY_PROBLEM = /\[(ALERT|WARNING)\]/;

/**
 * A line of a service's output as the terminal shows it, or undefined to leave it to the service's log
 * file. By default only problems show: warnings and errors of the services, one short line each, and
 * whatever a service prints that is not a log line (a STARTUP_FAILURE, a crash); PostgreSQL's own
 * chatter, HAProxy's access log, and the info lines of Prometheus and Alertmanager, stay in their logs.
 */
export function terminalLine(service: string, line: string, mode: EchoMode): string | undefined {
  if (mode === 'verbose') return line;
  if (mode === 'quiet' || service === 'postgres' || line.trim() === '') return undefined;
  if (service === 'haproxy') return HAPROXY_PROBLEM.test(line) ? `[${service}] ${line}` : undefined;
  if (!line.startsWith('{')) return LOGFMT_QUIET.test(line) ? undefined : `[${service}] ${line}`;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `[${service}] ${line}`;
  }
  if (!SHOWN_LEVELS.has(String(entry.level))) return undefined;
  const context = CONTEXT_FIELDS.filter((key) => entry[key] !== undefined)
    .map((key) => `${key}=${entry[key]}`)
    .join(' ');
  return `[${service}] ${String(entry.level).toUpperCase()} ${entry.msg}${context ? ` (${context})` : ''}`;
}
