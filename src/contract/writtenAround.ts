/**
 * Finds log lines written around the contract: a call of a logger's level method (`log.warn(...)`,
 * `logger[level](...)`) in TypeScript source that hands it a message of its own, a string or a template.
 * Lines go through `logEvent`, whose event names the type check holds to the contract. Imports nothing.
 */

const LEVEL_CALL = /(\w*)(?:\.(?:trace|debug|info|warn|error|fatal)|\[[^\]\n]*\])\s*\(/g;
/** Objects with methods of these names that are no loggers. */
const NOT_LOGGERS = new Set(['console', 'assert', 'Promise']);
/** A receiver whose element access is a logger's level: `log[level](...)`, `logger[...](...)`. */
const LOGGER_NAME = /log(ger)?$/i;

export interface WrittenAround {
  line: number;
  message: string;
}

export function linesWrittenAround(source: string): WrittenAround[] {
  const code = withoutComments(source);
  // Matched and split where strings are blank (quotes kept, length the same): a call in a string is none.
  const masked = blankStrings(code);
  const found: WrittenAround[] = [];
  for (const match of masked.matchAll(LEVEL_CALL)) {
    const receiver = match[1] ?? '';
    if (NOT_LOGGERS.has(receiver)) continue;
    if (match[0].includes('[') && !LOGGER_NAME.test(receiver)) continue;
    const args = topLevelArguments(masked, (match.index ?? 0) + match[0].length);
    const message = args.find((arg) => /^['"`]/.test(code.slice(arg.start, arg.end)));
    if (message !== undefined) {
      found.push({
        line: code.slice(0, match.index).split('\n').length,
        message: code.slice(message.start, message.end).slice(0, 80),
      });
    }
  }
  return found;
}

/** The source with its comments blanked out (line breaks kept, so lines still count), strings intact. */
function withoutComments(source: string): string {
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '"' || c === "'" || c === '`') {
      const end = endOfString(source, i);
      out += source.slice(i, end + 1);
      i = end;
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop - 1;
    } else out += c;
  }
  return out;
}

/** The code with every string's content (a template's too) replaced by spaces. */
function blankStrings(code: string): string {
  let out = '';
  for (let i = 0; i < code.length; i++) {
    const c = code[i] as string;
    if (c === '"' || c === "'" || c === '`') {
      const end = endOfString(code, i);
      out += `${c}${' '.repeat(Math.max(end - i - 1, 0))}${code[end] ?? ''}`;
      i = end;
    } else out += c;
  }
  return out;
}

/** Where the string that opens at `start` closes (a template's `${...}` read through, nested). */
function endOfString(source: string, start: number): number {
  const quote = source[start];
  for (let i = start + 1; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === quote) return i;
    else if (quote === '`' && c === '$' && source[i + 1] === '{') i = endOfBlock(source, i + 2);
  }
  return source.length - 1;
}

function endOfBlock(source: string, start: number): number {
  let depth = 1;
  for (let i = start; i < source.length; i++) {
    const c = source[i];
    if (c === '"' || c === "'" || c === '`') i = endOfString(source, i);
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return source.length - 1;
}

/** Where each argument of the call whose parenthesis opened just before `start` is, blanks trimmed. */
function topLevelArguments(code: string, start: number): { start: number; end: number }[] {
  const args: { start: number; end: number }[] = [];
  const add = (from: number, to: number) => {
    const text = code.slice(from, to);
    const lead = text.length - text.trimStart().length;
    if (text.trim()) args.push({ start: from + lead, end: from + lead + text.trim().length });
  };
  let depth = 0;
  let from = start;
  for (let i = start; i < code.length; i++) {
    const c = code[i];
    if (c === '"' || c === "'" || c === '`') i = endOfString(code, i);
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      add(from, i);
      from = i + 1;
    } else if (c === ')') {
      add(from, i);
      return args;
    }
  }
  return args;
}
