/**
 * A 5xx as the dashboard lists it: enough to find its log line (the errorId) and its trace (`trace_id`,
 * the name its log lines and the tracing backend give it), nothing more.
 */
export interface ServerErrorNote {
  time: string;
  errorId: string;
  trace_id: string;
  statusCode: number;
  error: string;
  endpoint: string;
}

/** The latest server errors, newest first, at most `capacity` of them. */
export class RecentErrors {
  readonly #capacity: number;
  readonly #notes: ServerErrorNote[] = [];

  constructor(capacity = 20) {
    this.#capacity = capacity;
  }

  add(note: ServerErrorNote): void {
    this.#notes.unshift(note);
    if (this.#notes.length > this.#capacity) this.#notes.pop();
  }

  list(): readonly ServerErrorNote[] {
    return this.#notes;
  }
}
