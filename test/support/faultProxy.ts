import { createServer, connect as dial, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How the proxy mistreats connections:
 * - `latency`: every chunk, both ways, waits `latencyMs`;
 * - `hang`: connections are accepted and nothing is ever answered;
 * - `reset`: connections are reset (RST), at once or after `afterBytes` of the answer;
 * - `refuse`: nothing listens (ECONNREFUSED);
 * - `slow`: answers trickle at `bytesPerSecond`;
 * - `half-open`: the proxy closes its side (FIN) and reads on, answering nothing.
 * `rate` (0..1, default 1) is the share of connections affected. Switching to a mode acts on the
 * connections already open too (a database that vanishes mid-transaction), except latency and slow.
 */
export type Fault =
  | { mode: 'none' }
  | { mode: 'latency'; latencyMs: number; rate?: number }
  | { mode: 'hang'; rate?: number }
  | { mode: 'reset'; afterBytes?: number; rate?: number }
  | { mode: 'refuse' }
  | { mode: 'slow'; bytesPerSecond: number; rate?: number }
  | { mode: 'half-open'; rate?: number };

interface Link {
  client: Socket;
  upstream: Socket | undefined;
  fault: Fault;
}

/**
 * A TCP proxy between the checkout service and one dependency (PostgreSQL, inventory, payment) that
 * injects network faults: the rude failures a fault switch at the HTTP level cannot make. Test
 * tooling (there is no kept npm equivalent of Toxiproxy); 127.0.0.1 only.
 */
export class FaultProxy {
  readonly #target: { host: string; port: number };
  #server: Server;
  #port = 0;
  #fault: Fault = { mode: 'none' };
  readonly #links = new Set<Link>();

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = this.#listener();
  }

  /** A proxy in front of `targetUrl` (http://, postgres://). */
  static async start(targetUrl: string): Promise<FaultProxy> {
    const url = new URL(targetUrl);
    const proxy = new FaultProxy({ host: url.hostname, port: Number(url.port) });
    await proxy.#listen(0);
    return proxy;
  }

  /** `targetUrl` with the proxy's address in place of the target's. */
  urlFor(targetUrl: string): string {
    const url = new URL(targetUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.#port);
    return url.href.replace(/\/$/, targetUrl.endsWith('/') ? '/' : '');
  }

  get fault(): Fault {
    return this.#fault;
  }

  async set(fault: Fault): Promise<void> {
    const was = this.#fault;
    this.#fault = fault;
    if (fault.mode === 'refuse' && was.mode !== 'refuse') {
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        for (const link of this.#links) destroy(link);
      });
    } else if (fault.mode !== 'refuse' && was.mode === 'refuse') {
      this.#server = this.#listener();
      await this.#listen(this.#port);
    }
    for (const link of this.#links) {
      if (!affects(fault)) continue;
      if (fault.mode === 'reset' && !fault.afterBytes) reset(link);
      else if (fault.mode === 'hang' || fault.mode === 'half-open' || fault.mode === 'reset') {
        // An open connection that goes bad stays bad: the client has to notice and drop it.
        link.fault = fault;
        if (fault.mode === 'hang') {
          link.client.pause();
          link.upstream?.pause();
        }
        if (fault.mode === 'half-open') link.client.end();
      }
    }
  }

  async close(): Promise<void> {
    for (const link of this.#links) destroy(link);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #listener(): Server {
    const server = createServer((client) => this.#accept(client));
    server.on('error', () => {});
    return server;
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = this.#server.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
  }

  #accept(client: Socket): void {
    const fault = affects(this.#fault) ? this.#fault : ({ mode: 'none' } as Fault);
    const link: Link = { client, upstream: undefined, fault };
    this.#links.add(link);
    client.on('error', () => {});
    client.on('close', () => {
      link.upstream?.destroy();
      this.#links.delete(link);
    });
    if (fault.mode === 'reset' && !fault.afterBytes) {
      reset(link);
      return;
    }
    if (fault.mode === 'hang' || fault.mode === 'half-open') {
      client.resume();
      if (fault.mode === 'half-open') client.end();
      return;
    }
    const upstream = dial(this.#target.port, this.#target.host);
    link.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    this.#forward(client, upstream, link, false);
    this.#forward(upstream, client, link, true);
  }

  /** Copies `from` to `to`, mistreating the chunks as the link's fault (or the current one) says. */
  #forward(from: Socket, to: Socket, link: Link, answer: boolean): void {
    let answered = 0;
    let queue = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      from.pause();
      queue = queue.then(async () => {
        const fault =
          this.#fault.mode === 'latency' || this.#fault.mode === 'slow' ? this.#fault : link.fault;
        if (fault.mode === 'latency') await sleep(fault.latencyMs);
        if (answer && fault.mode === 'reset' && fault.afterBytes !== undefined) {
          const room = fault.afterBytes - answered;
          if (room <= chunk.length) {
            if (room > 0 && !to.destroyed) to.write(chunk.subarray(0, room));
            answered += room;
            reset(link);
            return;
          }
        }
        if (answer && fault.mode === 'slow') {
          for (let at = 0; at < chunk.length; at += 64) {
            if (to.destroyed || to.writableEnded) return;
            to.write(chunk.subarray(at, at + 64));
            await sleep((64 / fault.bytesPerSecond) * 1000);
          }
        } else if (!to.destroyed && !to.writableEnded) to.write(chunk);
        answered += chunk.length;
        if (link.fault.mode !== 'hang') from.resume();
      });
    });
    from.on('end', () => {
      void queue.then(() => to.end());
    });
  }
}

function affects(fault: Fault): boolean {
  if (fault.mode === 'none') return false;
  const rate = 'rate' in fault && fault.rate !== undefined ? fault.rate : 1;
  return Math.random() < rate;
}

function reset(link: Link): void {
  link.client.resetAndDestroy();
  link.upstream?.destroy();
}

function destroy(link: Link): void {
  link.client.destroy();
  link.upstream?.destroy();
}
