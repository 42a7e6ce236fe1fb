import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';

/**
 * A command's options as `parseArgs` reads them, strictly (an unknown flag, a missing value or a stray
 * argument throws), and each option that takes one value given once: `parseArgs` keeps the last of a
 * repeated one without a word, so `--ttl 1h --ttl 30d` would quietly mean 30 days. Options declared
 * `multiple` may repeat, and so may a flag (it says the same each time). It imports nothing of the
 * project: every command (triage, doctor included) reads its options with it.
 */
export function parseOptions<T extends ParseArgsOptionsConfig>(args: string[], options: T) {
  const { values, tokens } = parseArgs({
    args,
    options,
    strict: true,
    allowPositionals: false,
    tokens: true,
  });
  const given = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const declared = options[token.name];
    if (declared?.type !== 'string' || declared.multiple) continue;
    if (given.has(token.name)) throw new RepeatedOptionError(token.name);
    given.add(token.name);
  }
  return values;
}

/** Coded as parseArgs codes its own errors, so that a command tells every bad usage apart by one test. */
export class RepeatedOptionError extends Error {
  readonly code = 'ERR_PARSE_ARGS_REPEATED_OPTION';

  constructor(name: string) {
    super(`Option '--${name}' is given more than once; it takes one value`);
  }
}
