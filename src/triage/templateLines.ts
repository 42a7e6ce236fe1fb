import { isEvent } from '../contract/logEvents.ts';
import type { LogLine } from './logLine.ts';
import type { LogTemplates, TemplateSample } from './templates.ts';

/** pino's numbers for warn and above; a level given by name is read by name. */
const WARN = 40;
const AT_LEAST_WARN = new Set(['warn', 'warning', 'error', 'fatal', 'critical']);

/**
 * Which lines are templated, and as what text: a line at warn level or above by its message (with its
 * error class first when it has one, since "TypeError: x" and "RangeError: x" are two failures), and a
 * request answered with a 5xx by its service, status, error code and route, kept literal (the status
 * and the route are the point, not variables). Every line's time is noted for the windows.
 */
export function observeTemplate(
  templates: LogTemplates,
  record: LogLine,
  time: number,
  sample: () => TemplateSample,
): void {
  templates.saw(time);
  if (isEvent(record, 'request_completed')) {
    const status = record.statusCode as number;
    if (status < 500) return;
    const error = record.error ? ` ${record.error}` : '';
    templates.addLiteral(
      `${record.service ?? 'a service'} answered ${status}${error} to ${record.endpoint ?? 'a request'}`,
      time,
      sample,
    );
    return;
  }
  if (!atLeastWarn(record.level)) return;
  const message = record.msg ?? record.event ?? '';
  const text = record.errorClass ? `${record.errorClass}: ${message}` : message;
  if (text) templates.add(text, time, sample);
}

function atLeastWarn(level: LogLine['level']): boolean {
  if (typeof level === 'number') return level >= WARN;
  return typeof level === 'string' && AT_LEAST_WARN.has(level.toLowerCase());
}
