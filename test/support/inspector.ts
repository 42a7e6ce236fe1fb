import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A test's handle on a Node.js process started with `--inspect=127.0.0.1:0` (the soak sets it in
 * NODE_OPTIONS for its own stack only): the Chrome DevTools Protocol over the inspector's WebSocket.
 * It forces full collections and reads the heap from outside, so no code path of the product, in any
 * build, can trigger a GC. No protocol domain is enabled: an enabled Runtime domain keeps every console
 * message for the session, which would itself grow the heap it measures.
 */
export class Inspector {
  readonly #socket: WebSocket;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Map<string, (params: unknown) => void>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        method?: string;
        params?: unknown;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id === undefined) {
        if (message.method) this.#listeners.get(message.method)?.(message.params);
        return;
      }
      const waiter = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(`inspector: ${message.error.message}`));
      else waiter?.resolve(message.result);
    });
    socket.addEventListener('close', () => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error('inspector connection closed'));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`cannot reach the inspector at ${url}`)), {
        once: true,
      });
    });
    return new Inspector(socket);
  }

  /** One protocol call; a process that does not answer within `timeoutMs` (frozen, say) fails it. */
  send<T>(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`inspector: no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = (then: () => void) => {
        clearTimeout(timer);
        then();
      };
      this.#pending.set(id, {
        resolve: (value) => settle(() => resolve(value as T)),
        reject: (error) => settle(() => reject(error)),
      });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * A full, compacting collection (V8's "low memory notification": mark-compact rounds until nothing
   * more is freed), then the process's memory as it stands: what survives is what the process keeps.
   */
  async memoryAfterFullGc(): Promise<MemoryAfterGc> {
    const started = performance.now();
    await this.send('HeapProfiler.collectGarbage');
    const gcMs = performance.now() - started;
    const { result } = await this.send<{ result: { value: string } }>('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    const usage = JSON.parse(result.value) as NodeJS.MemoryUsage;
    return { heapUsedBytes: usage.heapUsed, externalBytes: usage.external, gcMs };
  }

  /** A V8 heap snapshot (the `.heapsnapshot` JSON DevTools loads), taken after a full collection. */
  async heapSnapshot(): Promise<string> {
    const chunks: string[] = [];
    this.#listeners.set('HeapProfiler.addHeapSnapshotChunk', (params) => {
      chunks.push((params as { chunk: string }).chunk);
    });
    try {
      await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, 300_000);
    } finally {
      this.#listeners.delete('HeapProfiler.addHeapSnapshotChunk');
    }
    return chunks.join('');
  }

  close(): void {
    this.#socket.close();
  }
}

export interface MemoryAfterGc {
  heapUsedBytes: number;
  /** Memory of C++ objects bound to JavaScript ones (Buffers, ArrayBuffers): a leak of those is not in the heap. */
  externalBytes: number;
  /** How long the forced collection stopped the process (with the round trip). */
  gcMs: number;
}

/**
 * The inspector URL a process printed on its stderr (`Debugger listening on ws://...`): the last one in
 * its log file, since a restarted process prints a new one. Waits for it up to `timeoutMs`.
 */
export async function inspectorUrlInLog(logFile: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    const url = [...text.matchAll(/Debugger listening on (ws:\/\/\S+)/g)].at(-1)?.[1];
    if (url) return url;
    if (Date.now() > deadline)
      throw new Error(`no inspector URL in ${logFile}: was it started with --inspect?`);
    await sleep(100);
  }
}

/** Objects of one constructor in a heap snapshot: how many, and the bytes they hold themselves. */
export interface ConstructorTotal {
  name: string;
  count: number;
  selfBytes: number;
}

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/**
 * Totals by constructor of a heap snapshot, as DevTools' summary groups them (objects by their
 * constructor's name, the other node types (closures, strings, arrays, code...) by type).
 */
export function constructorTotals(snapshotText: string): Map<string, ConstructorTotal> {
  const snapshot = JSON.parse(snapshotText) as SnapshotJson;
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const totals = new Map<string, ConstructorTotal>();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const type = types[snapshot.nodes[i + typeAt] as number] ?? 'unknown';
    const name =
      type === 'object' || type === 'native'
        ? (snapshot.strings[snapshot.nodes[i + nameAt] as number] ?? '?')
        : `(${type})`;
    const total = totals.get(name) ?? { name, count: 0, selfBytes: 0 };
    total.count++;
    total.selfBytes += snapshot.nodes[i + sizeAt] as number;
    totals.set(name, total);
  }
  return totals;
}

/** What grew from one snapshot to a later one, by constructor: the largest growth in bytes first. */
export function constructorGrowth(
  before: Map<string, ConstructorTotal>,
  after: Map<string, ConstructorTotal>,
  top = 15,
): ConstructorTotal[] {
  return [...after.values()]
    .map((a) => ({
      name: a.name,
      count: a.count - (before.get(a.name)?.count ?? 0),
      selfBytes: a.selfBytes - (before.get(a.name)?.selfBytes ?? 0),
    }))
    .sort((x, y) => y.selfBytes - x.selfBytes)
    .slice(0, top);
}
