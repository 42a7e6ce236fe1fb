import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalLine } from './terminalEcho.ts';

const info = JSON.stringify({ level: 'info', msg: 'request_completed', statusCode: 201 });
const warn = JSON.stringify({
  level: 'warn',
  msg: 'payment gateway answered 500',
  errorId: 'ERR-1732845600000-K7X2MN',
  dependency: 'paymentGateway',
  stack: 'Error: ...\n    at file.ts:1',
});

test('by default the terminal shows problems only, one short line each', () => {
  assert.equal(terminalLine('checkout', info, 'problems'), undefined);
  assert.equal(
    terminalLine('checkout', warn, 'problems'),
    '[checkout] WARN payment gateway answered 500 (errorId=ERR-1732845600000-K7X2MN dependency=paymentGateway)',
  );
  assert.equal(
    terminalLine('checkout', "STARTUP_FAILURE: Required environment variable 'X' is not set.", 'problems'),
    "[checkout] STARTUP_FAILURE: Required environment variable 'X' is not set.",
  );
});

test("PostgreSQL's own output, and the info lines of Prometheus and Alertmanager, stay in their log files", () => {
  assert.equal(
    terminalLine('prometheus', 'ts=2026 caller=main.go level=info msg="TSDB started"', 'problems'),
    undefined,
  );
  assert.equal(
    terminalLine('alertmanager', 'ts=2026 level=error msg="Notify failed"', 'problems'),
    '[alertmanager] ts=2026 level=error msg="Notify failed"',
  );
  assert.equal(terminalLine('postgres', 'creating subdirectories ... ok', 'problems'), undefined);
  assert.equal(terminalLine('postgres', 'LOG:  database system is ready', 'problems'), undefined);
});

test('--verbose shows every line as it is, --quiet none', () => {
  assert.equal(
    terminalLine('postgres', 'creating subdirectories ... ok', 'verbose'),
    'creating subdirectories ... ok',
  );
  assert.equal(terminalLine('checkout', info, 'verbose'), info);
  assert.equal(terminalLine('checkout', warn, 'quiet'), undefined);
});
