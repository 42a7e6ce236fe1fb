import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_ID_PATTERN, newErrorId } from './errorId.ts';

test('errorId is ERR-<epoch ms>-<6 upper-case base36>', () => {
  assert.match(newErrorId(1732845600000), /^ERR-1732845600000-[0-9A-Z]{6}$/);
  assert.match(newErrorId(), ERROR_ID_PATTERN);
});

test('errorIds do not repeat', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newErrorId(0)));
  assert.equal(ids.size, 1000);
});
