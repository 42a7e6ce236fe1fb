import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions, RepeatedOptionError } from './parseOptions.ts';

const OPTIONS = {
  ttl: { type: 'string', default: '1h' },
  logs: { type: 'string', multiple: true },
  quiet: { type: 'boolean', default: false },
} as const;

test('an option of one value given twice is refused, in either spelling; its code is a parse error', () => {
  for (const args of [
    ['--ttl', '1h', '--ttl', '30d'],
    ['--ttl=1h', '--ttl', '30d'],
    ['--ttl', '1h', '--quiet', '--ttl=1h'],
  ]) {
    assert.throws(
      () => parseOptions(args, OPTIONS),
      (error: unknown) =>
        error instanceof RepeatedOptionError &&
        error.message === "Option '--ttl' is given more than once; it takes one value" &&
        error.code.startsWith('ERR_PARSE_ARGS_'),
      args.join(' '),
    );
  }
});

test('options declared multiple, and flags, may repeat; once, an option is read as parseArgs reads it', () => {
  assert.deepEqual(
    { ...parseOptions(['--logs', 'a', '--logs', 'b', '--quiet', '--quiet'], OPTIONS) },
    {
      logs: ['a', 'b'],
      quiet: true,
      ttl: '1h',
    },
  );
  assert.equal(parseOptions(['--ttl', '2h'], OPTIONS).ttl, '2h');
  assert.throws(() => parseOptions(['--bogus'], OPTIONS), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  assert.throws(() => parseOptions(['stray'], OPTIONS), { code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' });
});
