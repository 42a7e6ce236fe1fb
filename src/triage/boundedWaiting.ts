/**
 * Entries waiting for their other half (a request line of one log for its twin in another), keyed by id,
 * at most `capacity` of them: once `capacity` newer ones have come, the oldest still waiting is let go.
 * Every step is O(1): the order of arrival is a ring of keys, not the map's own order (skipping the holes
 * that deletions leave at the front of a Map would make each step cost what was taken before it). Keys are
 * held as a 53-bit hash, not as the strings: a string cut from a parsed line can keep the whole line alive,
 * and 200,000 of them would hold 200,000 lines. Two ids of the same hash (odds of about 10^-5 at capacity)
 * would join wrongly, once.
 */
export class BoundedWaiting<V> {
  readonly #capacity: number;
  readonly #ring: Float64Array;
  /** Hash → slot; the values sit in an array by slot, with no wrapper per entry. */
  readonly #waiting = new Map<number, number>();
  readonly #values: (V | undefined)[];
  #next = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
    // NaN marks an empty slot: no hash is NaN.
    this.#ring = new Float64Array(capacity).fill(Number.NaN);
    this.#values = new Array<V | undefined>(capacity);
  }

  get size(): number {
    return this.#waiting.size;
  }

  /** The entry waiting under `key`, taken out; undefined when none is. */
  take(key: string): V | undefined {
    const hash = hash53(key);
    const slot = this.#waiting.get(hash);
    if (slot === undefined) return undefined;
    this.#waiting.delete(hash);
    const value = this.#values[slot];
    this.#ring[slot] = Number.NaN;
    this.#values[slot] = undefined;
    return value;
  }

  /** Adds `value` under `key` (replacing one of the same key); returns the oldest entry it pushed out. */
  put(key: string, value: V): V | undefined {
    const hash = hash53(key);
    const slot = this.#next;
    this.#next = (slot + 1) % this.#capacity;
    let pushedOut: V | undefined;
    const old = this.#ring[slot] as number;
    if (!Number.isNaN(old) && this.#waiting.get(old) === slot) {
      this.#waiting.delete(old);
      pushedOut = this.#values[slot];
    }
    const same = this.#waiting.get(hash);
    if (same !== undefined) {
      this.#ring[same] = Number.NaN;
      this.#values[same] = undefined;
    }
    this.#ring[slot] = hash;
    this.#values[slot] = value;
    this.#waiting.set(hash, slot);
    return pushedOut;
  }

  *values(): IterableIterator<V> {
    for (const slot of this.#waiting.values()) yield this.#values[slot] as V;
  }

  clear(): void {
    this.#waiting.clear();
    this.#ring.fill(Number.NaN);
    this.#values.fill(undefined);
  }
}

/** Two 32-bit FNV-1a hashes of different seeds, as one 53-bit integer. */
function hash53(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0) * 2 ** 21 + ((b >>> 0) & 0x1fffff);
}
