import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStorableText } from './storableText.ts';

test('storable text: any script, emoji and combining marks pass', () => {
  for (const value of [
    '',
    'pm_card_visa',
    'Grüße',
    '東京',
    'مرحبا',
    '😀',
    'e\u0301',
    'a\u200db',
    '\uffff',
    'שלום \u200f',
    '👨‍👩‍👧',
  ]) {
    assert.equal(isStorableText(value), true, JSON.stringify(value));
  }
});

test('storable text: controls, line separators, bidi overrides and unpaired surrogates are refused', () => {
  for (const value of [
    'a\u0000',
    '\u0007',
    'line\nbreak',
    '\t',
    '\u001b[2J',
    '\u007f',
    '\u0085',
    '\u009b',
    '\ud800',
    'x\udc00',
    '\udc00\ud800',
  ]) {
    assert.equal(isStorableText(value), false, JSON.stringify(value));
  }
});
