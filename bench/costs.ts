import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';

/** What the machine has spent so far: transactions per database, WAL records, CPU ms per process. */
export interface CostSnapshot {
  commits: Record<string, number>;
  walRecords: number;
  cpuMs: Record<string, number>;
}

/** Linux's clock ticks per second for /proc times (USER_HZ), 100 on every common kernel. */
const TICKS_PER_SECOND = 100;

async function cpuTicks(pid: number): Promise<{ ticks: number; ppid: number } | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // Fields after the command (which may hold spaces), numbered from 3: state, ppid, ..., utime (14), stime (15).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** CPU ms of a process, or of a process and its children (PostgreSQL's backends). */
async function cpuMs(pid: number, withChildren: boolean): Promise<number> {
  let ticks = (await cpuTicks(pid))?.ticks ?? Number.NaN;
  if (withChildren) {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const child = await cpuTicks(Number(entry));
      if (child?.ppid === pid) ticks += child.ticks;
    }
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/**
 * Reads what `npm run bench` charges to each checkout. Backends publish their statistics about once a
 * second, so a run is measured between two snapshots taken while it is busy, not at its edges.
 */
export class CostMeter {
  readonly #admin: pg.Client;
  readonly #processes: Record<string, { pid: number; withChildren: boolean }>;
  readonly #databases: string[];

  /** `databases`: whose commits are counted; one not yet created is left out of a snapshot. */
  constructor(
    adminUrl: string,
    processes: Record<string, { pid: number; withChildren?: boolean }>,
    databases: string[] = ['checkout', 'inventory', 'payment_sandbox'],
  ) {
    this.#admin = new pg.Client({ connectionString: adminUrl });
    this.#databases = databases;
    this.#processes = Object.fromEntries(
      Object.entries(processes).map(([name, p]) => [name, { pid: p.pid, withChildren: !!p.withChildren }]),
    );
  }

  async connect(): Promise<void> {
    await this.#admin.connect();
  }

  async snapshot(extra: Record<string, number> = {}): Promise<CostSnapshot> {
    await this.#admin.query('SELECT pg_stat_clear_snapshot()');
    const dbs = await this.#admin.query<{ datname: string; xact_commit: string }>(
      'SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1)',
      [this.#databases],
    );
    const wal = await this.#admin.query<{ wal_records: string }>('SELECT wal_records FROM pg_stat_wal');
    const cpu: Record<string, number> = {};
    for (const [name, { pid, withChildren }] of Object.entries({
      ...this.#processes,
      ...Object.fromEntries(Object.entries(extra).map(([n, pid]) => [n, { pid, withChildren: false }])),
    }))
      cpu[name] = await cpuMs(pid, withChildren);
    return {
      commits: Object.fromEntries(dbs.rows.map((r) => [r.datname, Number(r.xact_commit)])),
      walRecords: Number(wal.rows[0]?.wal_records ?? Number.NaN),
      cpuMs: cpu,
    };
  }

  close(): Promise<void> {
    return this.#admin.end();
  }
}

/** The difference of two snapshots, per checkout completed between them. */
export function perCheckout(before: CostSnapshot, after: CostSnapshot, checkouts: number): CostSnapshot {
  const per = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(Object.keys(b).map((k) => [k, ((b[k] ?? 0) - (a[k] ?? 0)) / checkouts]));
  return {
    commits: per(before.commits, after.commits),
    walRecords: (after.walRecords - before.walRecords) / checkouts,
    cpuMs: per(before.cpuMs, after.cpuMs),
  };
}
