import assert from 'node:assert/strict';
import { test } from 'node:test';
import { looksLikePostgresLine, parsePostgresLine } from './postgresLog.ts';

test("PostgreSQL's own lines: time with its zone, pid, severity as a level, the message", () => {
  assert.deepEqual(
    parsePostgresLine('2026-12-03 07:50:22.972 UTC [13932] FATAL:  sorry, too many clients already'),
    {
      time: Date.parse('2026-12-03T07:50:22.972Z'),
      level: 'fatal',
      pid: 13932,
      msg: 'FATAL: sorry, too many clients already',
    },
  );
  assert.equal(
    parsePostgresLine('2026-12-03 08:50:22 +01 [7] WARNING:  x')?.time,
    Date.parse('2026-12-03T07:50:22Z'),
  );
  assert.equal(parsePostgresLine('2026-12-03 07:50:22.972 UTC [1] LOG:  ready')?.level, 'info');
  assert.equal(parsePostgresLine('2026-12-03 07:50:22.972 UTC [1] STATEMENT:  SELECT 1')?.level, 'info');
});

test('anything else is not one: another severity, a zone that cannot be read, a date that is none', () => {
  assert.equal(parsePostgresLine('2026-12-03 07:50:22.972 UTC [1] SHOUT:  x'), undefined);
  assert.equal(parsePostgresLine('2026-12-03 07:50:22.972 CET [1] LOG:  x'), undefined);
  assert.equal(parsePostgresLine('2026-13-45 07:50:22.972 UTC [1] LOG:  x'), undefined);
  assert.equal(parsePostgresLine('2026-12-03 07:50:22.972 UTC [1] __proto__:  x'), undefined);
  assert.equal(looksLikePostgresLine('2026-12-03 07:50:22.972 CET [1] LOG:  x'), true);
  assert.equal(looksLikePostgresLine('{"msg":"request_completed"}'), false);
  assert.equal(looksLikePostgresLine('Success. You can now start the database server using:'), false);
});
