import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linesWrittenAround } from './writtenAround.ts';

test('a logger handed a message of its own is found, however the call is written', () => {
  const source = [
    "log.warn({ attemptId }, 'charge_outcome_unknown');",
    'request.log.info(',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source under test, not a template
    '  { endpoint: `${method} ${route}`, nested: { a: [1, (2)] } },',
    '  "request_completed",',
    ');',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source under test, not a template
    "logger[outcome === 'deferred' ? 'warn' : 'info']({ outcome }, `attempt ${id} recovered`);",
  ].join('\n');
  assert.deepEqual(linesWrittenAround(source), [
    { line: 1, message: "'charge_outcome_unknown'" },
    { line: 2, message: '"request_completed"' },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the message as written in that source
    { line: 6, message: '`attempt ${id} recovered`' },
  ]);
});

test('lines written through the contract, consoles, comments and strings are not', () => {
  const source = [
    "logEvent(log, 'warn', 'charge_outcome_unknown', { attemptId });",
    "console.error('usage: steadfast start');",
    "// log.info({}, 'in a comment')",
    "/* logger.warn({}, 'in a block') */",
    'const text = "log.info({}, \'in a string\')";',
    'log[level](fields, event);',
    "row['info']('not a logger');",
  ].join('\n');
  assert.deepEqual(linesWrittenAround(source), []);
});
