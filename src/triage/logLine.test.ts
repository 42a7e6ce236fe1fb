import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLogLine } from './logLine.ts';

const TIME = '2026-11-30T10:00:00.000Z';
const reasonOf = (fields: Record<string, unknown>) => {
  const parsed = parseLogLine(JSON.stringify({ time: TIME, ...fields }));
  return 'reason' in parsed ? `${parsed.reason} ${parsed.detail}` : 'ok';
};

test('a line whose fields have their types is read, null being the same as absent', () => {
  const parsed = parseLogLine(
    JSON.stringify({ time: TIME, msg: 'request_completed', statusCode: 201, endpoint: null, level: 30 }),
  );
  assert.ok('record' in parsed);
  assert.equal(parsed.time, Date.parse(TIME));
  assert.equal(reasonOf({ msg: 'x', time: Date.parse(TIME) }), 'ok', 'epoch milliseconds, as pino writes');
});

test('every field triage reads is checked for its type and range before use', () => {
  const bad: Record<string, unknown[]> = {
    statusCode: [500.5, '500', 99, 600, [500], { code: 500 }, true],
    refusalsNotLogged: [-1, 0.5, 1e12, '3'],
    pid: [-1, 1.5, 'x'],
    durationMs: ['12', { ms: 1 }],
    problems: ['a', [1, 2], [{}]],
    level: [{}, [], true],
  };
  for (const field of [
    'msg',
    'event',
    'service',
    'version',
    'commit',
    'endpoint',
    'error',
    'errorId',
    'stack',
  ])
    bad[field] = [5, {}, [], true];
  for (const field of ['errorClass', 'reason', 'dependency', 'url', 'paymentApiUrl', 'inventoryApiUrl'])
    bad[field] = [5, { a: 1 }];
  for (const [field, values] of Object.entries(bad))
    for (const value of values)
      assert.match(
        reasonOf({ [field]: value }),
        new RegExp(`^bad_field ${field}: `),
        `${field}=${JSON.stringify(value)}`,
      );
  assert.match(reasonOf({ msg: 'request_completed' }), /^bad_field statusCode: missing/);
  const huge = parseLogLine(`{"time":"${TIME}","statusCode":1e400}`);
  assert.ok('reason' in huge && huge.reason === 'bad_field', 'a number past the range of a double');
});

test('a time that is no date between 1970 and 9999 is passed over: huge, negative, text, absent', () => {
  for (const time of [1e20, -1, 'yesterday', '', null, {}, Number.MAX_VALUE, '+010000-01-01T00:00:00Z'])
    assert.match(reasonOf({ time }), /^bad_time /, JSON.stringify(time));
  assert.match(reasonOf({ time: undefined }), /^bad_time /);
});

test('what is not a JSON object is passed over; deep nesting in a field nothing reads costs nothing', () => {
  assert.match(reasonOf({}).toString(), /^ok/);
  for (const text of ['{', '{"time":', '[1]', '"text"', '{"a":1}x']) {
    const parsed = parseLogLine(text);
    assert.ok('reason' in parsed && parsed.reason === 'not_json', text);
  }
  const deep = `{"time":"${TIME}","msg":"x","extra":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
  assert.ok('record' in parseLogLine(deep));
  const deepRead = `{"time":"${TIME}","statusCode":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
  const parsed = parseLogLine(deepRead);
  assert.ok('reason' in parsed && (parsed.reason === 'bad_field' || parsed.reason === 'too_deep'));
});
