import Type, { type TStringOptions } from 'typebox';

/**
 * Text a request may hand to storage and logs: no control characters (C0, DEL, C1: NUL cannot be stored in
 * PostgreSQL's text at all, `\u0000` is refused by jsonb, and the others rewrite an operator's terminal when
 * a log line is printed), no line or paragraph separator (U+2028, U+2029: line ends to readline and to
 * some terminals and editors, so one log line would show as two, the second of the user's choosing), no
 * bidi embedding, override or isolate (U+202A-U+202E, U+2066-U+2069: they reorder what a terminal shows
 * after them), and no unpaired surrogate (which UTF-8 cannot encode: node-postgres would store U+FFFD in
 * its place, jsonb refuses the escape). Everything else of Unicode is fine, right-to-left text included.
 *
 * A schema `pattern` is compiled with the `u` flag (Ajv's default), so `\p{Cs}` matches only a surrogate
 * that is not part of a pair.
 */
export const STORABLE_TEXT_PATTERN = '^[^\\p{Cc}\\p{Cs}\\p{Zl}\\p{Zp}\\u202A-\\u202E\\u2066-\\u2069]*$';

const STORABLE_TEXT = new RegExp(STORABLE_TEXT_PATTERN, 'u');

/** A string schema whose values are storable text (see above). */
export function StorableString(options: TStringOptions = {}) {
  return Type.String({ ...options, pattern: STORABLE_TEXT_PATTERN });
}

/** The same rule for values that do not come through a schema (a token's claims, a header read by hand). */
export function isStorableText(value: string): boolean {
  return STORABLE_TEXT.test(value);
}
