import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonSafe, terminalSafe } from './terminalSafe.ts';

test('control characters, DEL, C1 and bidi overrides are shown escaped; printable text is left alone', () => {
  assert.equal(terminalSafe('\u001b]0;pwned\u0007\u001b[2J'), '\\x1b]0;pwned\\x07\\x1b[2J');
  assert.equal(terminalSafe('a\nb\tc\rd\u0000'), 'a\\x0ab\\x09c\\x0dd\\x00');
  assert.equal(terminalSafe('\u007f\u0085\u009b'), '\\x7f\\x85\\x9b');
  assert.equal(terminalSafe('user\u202eevil\u2066\u2069\u200f'), 'user\\u202eevil\\u2066\\u2069\\u200f');
  assert.equal(terminalSafe('line\u2028sep'), 'line\\u2028sep');
  assert.equal(terminalSafe('café ✓ 支払い C:\\path'), 'café ✓ 支払い C:\\path');
});

test('JSON keeps its value and its validity, without raw C1 or bidi characters', () => {
  const value = { msg: 'a\u009b\u202e\u001bb' };
  const printed = jsonSafe(JSON.stringify(value));
  assert.deepEqual(JSON.parse(printed), value);
  assert.equal(terminalSafe(printed.replaceAll('\n', '')), printed.replaceAll('\n', ''), 'nothing raw left');
});
