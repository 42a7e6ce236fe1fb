const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export interface LineHandler {
  /** A line, without its line break, never longer than the limit in bytes. */
  line(text: string, lineNo: number): void;
  /** A line longer than the limit: its bytes were dropped as they came, never held whole. */
  cut(lineNo: number): void;
  /** `count` empty lines (or lines of only a carriage return) from `lineNo` on: counted in one call. */
  blank(lineNo: number, count: number): void;
}

/**
 * Splits a byte stream into lines with memory bounded by `maxLineBytes`, whatever the input: a line past
 * the limit is dropped as its bytes arrive and reported once as cut. readline would buffer the whole line
 * first (a line of gigabytes exhausts the process); this holds at most the limit plus one chunk.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #handler: LineHandler;
  #parts: Buffer[] = [];
  #pending = 0;
  #cutting = false;
  #lineNo = 0;

  constructor(maxLineBytes: number, handler: LineHandler) {
    this.#maxLineBytes = maxLineBytes;
    this.#handler = handler;
  }

  /** How many lines were seen, cut and blank ones included. */
  get lines(): number {
    return this.#lineNo;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) {
        this.#hold(chunk.subarray(start));
        return;
      }
      if (end === start && this.#pending === 0 && !this.#cutting) {
        // A run of empty lines (a file of nothing but newlines): counted byte by byte, not line by line.
        let last = end + 1;
        while (last < chunk.length && chunk[last] === NEWLINE) last++;
        this.#handler.blank(this.#lineNo + 1, last - start);
        this.#lineNo += last - start;
        start = last;
        continue;
      }
      if (this.#pending === 0 && !this.#cutting) this.#emit(chunk.subarray(start, end));
      else {
        this.#hold(chunk.subarray(start, end));
        this.#finish();
      }
      start = end + 1;
    }
  }

  /** The last line, when the input does not end with a line break. */
  end(): void {
    if (this.#pending > 0 || this.#cutting) this.#finish();
  }

  #hold(bytes: Buffer): void {
    if (this.#cutting || bytes.length === 0) return;
    if (this.#pending + bytes.length > this.#maxLineBytes) {
      this.#cutting = true;
      this.#parts = [];
      this.#pending = 0;
      return;
    }
    // A copy: the chunk's memory is the stream's, and holding a slice would keep the whole chunk alive.
    this.#parts.push(Buffer.from(bytes));
    this.#pending += bytes.length;
  }

  #finish(): void {
    if (this.#cutting) {
      this.#cutting = false;
      this.#handler.cut(++this.#lineNo);
      return;
    }
    const whole = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
    this.#parts = [];
    this.#pending = 0;
    this.#emit(whole);
  }

  #emit(bytes: Buffer): void {
    const lineNo = ++this.#lineNo;
    let length = bytes.length;
    if (length > 0 && bytes[length - 1] === CARRIAGE_RETURN) length--;
    if (length === 0) this.#handler.blank(lineNo, 1);
    else if (length > this.#maxLineBytes) this.#handler.cut(lineNo);
    else this.#handler.line(bytes.toString('utf8', 0, length), lineNo);
  }
}
