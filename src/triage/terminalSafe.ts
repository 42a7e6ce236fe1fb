/**
 * Characters a terminal acts on rather than shows: C0 controls (escape, backspace, carriage return, line
 * breaks...), DEL, C1 controls (a lone 0x9b is a CSI to some terminals), the bidirectional overrides and
 * isolates that reorder what follows, and the Unicode line and paragraph separators.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from evidence (a log line, a label, a file name: anything someone else wrote) made safe to print:
 * each unsafe character shown escaped (`\x1b`, `\u202e`). Tabs and line breaks too, since inside a piece
 * of evidence a line break would fake a line of the report; the report's own layout is added around it.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Printed JSON with the same characters escaped as `\u` sequences: still valid JSON of the same value. */
export function jsonSafe(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
