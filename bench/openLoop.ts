import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'undici';

const CONNECTIONS = 600;

export interface OpenLoopResult {
  offered: number;
  /** 201 within the budget. */
  goodput: number;
  shed: number;
  other: number;
  /** What the other answers were: status and error code, or the client's error. */
  otherKinds: Record<string, number>;
  servedP99Ms: number;
  shedP99Ms: number;
  /** The load generator's own event-loop delay, p99: a part of every latency it measures. */
  generatorDelayP99Ms: number;
  /** The cores the load generator kept busy: on a machine it shares, taken from the servers. */
  generatorCores: number;
}

const p99 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN;
};

/**
 * Open-loop load: requests leave at a fixed rate whatever the answers do (a client never waits for a free
 * connection), as real traffic arrives; a closed loop would slow down with the server and hide overload.
 */
export async function openLoop(options: {
  url: string;
  ratePerSecond: number;
  seconds: number;
  budgetMs: number;
  request: () => { path: string; headers: Record<string, string>; body: string };
  /**
   * `warm`: the connections are opened before the clock starts, as a balancer or a fleet of clients keeps
   * them. `cold`: a flash crowd, each connection opened when a request needs one, under the load itself.
   */
  connections: 'warm' | 'cold';
}): Promise<OpenLoopResult> {
  const pool = new Pool(options.url, { connections: CONNECTIONS, pipelining: 1 });
  if (options.connections === 'warm') {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, () =>
        pool.request({ method: 'GET', path: '/health/live' }).then((response) => response.body.dump()),
      ),
    );
  }
  const generatorDelay = monitorEventLoopDelay({ resolution: 10 });
  generatorDelay.enable();
  const generatorCpu = process.cpuUsage();
  const served: number[] = [];
  const shed: number[] = [];
  let goodput = 0;
  let other = 0;
  const otherKinds: Record<string, number> = {};
  const countOther = (kind: string) => {
    other++;
    otherKinds[kind] = (otherKinds[kind] ?? 0) + 1;
  };
  const pending: Promise<void>[] = [];
  const started = performance.now();
  const total = Math.round(options.ratePerSecond * options.seconds);
  for (let sent = 0; sent < total; sent++) {
    const due = started + (sent * 1000) / options.ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const { path, headers, body } = options.request();
    const at = performance.now();
    pending.push(
      pool
        .request({ method: 'POST', path, headers, body, headersTimeout: 30_000, bodyTimeout: 30_000 })
        .then(async (response) => {
          const text = await response.body.text();
          const ms = performance.now() - at;
          if (response.statusCode === 201) {
            served.push(ms);
            if (ms <= options.budgetMs) goodput++;
          } else if (response.statusCode === 503 && text.includes('"SERVER_OVERLOADED"')) shed.push(ms);
          else countOther(`${response.statusCode} ${/"error":"([A-Z_]+)"/.exec(text)?.[1] ?? ''}`.trim());
        })
        .catch((error: Error) => countOther(error.name)),
    );
  }
  await Promise.all(pending);
  generatorDelay.disable();
  const cpu = process.cpuUsage(generatorCpu);
  const elapsedMs = performance.now() - started;
  await pool.close();
  return {
    offered: total,
    goodput,
    shed: shed.length,
    other,
    otherKinds,
    servedP99Ms: p99(served),
    shedP99Ms: p99(shed),
    generatorDelayP99Ms: generatorDelay.percentile(99) / 1e6,
    generatorCores: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}
