import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { isEvent, type LogFieldName } from '../contract/logEvents.ts';
import type { LineReason } from './report.ts';

// A field may be absent or null (the same to triage); when present it has the type triage reads it as.
const Text = Type.Optional(Type.Union([Type.String(), Type.Null()]));
const Int = (minimum: number, maximum: number) =>
  Type.Optional(Type.Union([Type.Integer({ minimum, maximum }), Type.Null()]));

/**
 * The fields of a log line that triage reads, each with its type and range. Any other field is left
 * alone, whatever it holds (even nested a million deep), since nothing reads it.
 */
const LogFields = Type.Object({
  time: Type.Union([Type.String(), Type.Number()]),
  msg: Text,
  event: Text,
  service: Text,
  level: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Null()])),
  version: Text,
  commit: Text,
  configHash: Text,
  statusCode: Int(100, 599),
  endpoint: Text,
  error: Text,
  // A sampled refusal stands for at most this many: a larger number is not a count a log would hold.
  refusalsNotLogged: Int(0, 1_000_000_000),
  errorId: Text,
  stack: Text,
  errorClass: Text,
  reason: Text,
  dependency: Text,
  problems: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  pid: Int(0, 2 ** 31),
  url: Text,
  paymentApiUrl: Text,
  inventoryApiUrl: Text,
  durationMs: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  requestId: Text,
  checkoutBudgetMs: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 ** 31 }), Type.Null()])),
});
export type LogLine = Static<typeof LogFields>;

/** Triage reads only fields the contract declares: a field it does not is a type error here. */
const readsDeclaredFields: Exclude<keyof LogLine, LogFieldName> extends never ? true : never = true;
void readsDeclaredFields;

const fields = Compile(LogFields);

/** The latest time a report can print as an ISO date (year 9999); earlier than 1970 is not a log's. */
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export type ParsedLine = { record: LogLine; time: number } | { reason: LineReason; detail: string };

/** One JSON log line, its fields checked before anything reads them; or why it cannot be used. */
export function parseLogLine(text: string): ParsedLine {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (error) {
    // Some engines give up on deep nesting with a RangeError rather than a SyntaxError.
    if (error instanceof RangeError) return { reason: 'too_deep', detail: 'nested too deep to parse' };
    return { reason: 'not_json', detail: 'not JSON' };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return { reason: 'not_json', detail: 'not a JSON object' };
  const time = timeOf((record as { time?: unknown }).time);
  if (time === undefined)
    return { reason: 'bad_time', detail: 'no time, or not a date between 1970 and 9999' };
  if (!fields.Check(record)) {
    const [first] = fields.Errors(record);
    const field = first?.instancePath.split('/')[1] ?? '?';
    return { reason: 'bad_field', detail: `${field}: not ${expected(field)}` };
  }
  if (isEvent(record, 'request_completed') && typeof record.statusCode !== 'number')
    return { reason: 'bad_field', detail: 'statusCode: missing on a request line' };
  return { record, time };
}

function timeOf(value: unknown): number | undefined {
  const time = typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : Number.NaN;
  return Number.isFinite(time) && time >= 0 && time <= MAX_TIME ? time : undefined;
}

function expected(field: string): string {
  switch (field) {
    case 'statusCode':
      return 'an integer from 100 to 599';
    case 'refusalsNotLogged':
    case 'pid':
      return 'a whole number in range';
    case 'durationMs':
      return 'a number';
    case 'checkoutBudgetMs':
      return 'a number of ms from 0 to 2^31';
    case 'problems':
      return 'a list of strings';
    case 'level':
      return 'a string or a number';
    default:
      return 'a string';
  }
}
