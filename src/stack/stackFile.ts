import { chmod, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HaproxyAdmin } from './HaproxyAdmin.ts';
import type { ManagedProcess } from './ManagedProcess.ts';
import type { RunningCluster } from './patroniCluster.ts';

/** The facts a script needs to use a running stack: `<data dir>/stack.json` (docs/architecture.md section 10). */
export interface StackInfo {
  checkoutUrl: string;
  inventoryUrl: string;
  paymentUrl: string;
  databaseUrl: string;
  demoUserId: string;
  demoToken: string;
  demoCartId: string;
  /**
   * Every checkout instance; `checkoutUrl` is HAProxy in front of them when there are several. Then each
   * also has a management listener (`managementUrl`): its metrics, dashboard and the balancer's checks.
   */
  instances: StackInstance[];
  /** With several instances. */
  haproxyStatsUrl?: string;
  /** The last rolling restart (`steadfast restart --rolling`), while it runs and once it ended. */
  rollingRestart?: {
    startedAt: string;
    state: 'running' | 'done' | 'failed';
    finishedAt?: string;
    error?: string;
  };
  /** With `--monitoring`, when Prometheus and Alertmanager are installed. */
  prometheusUrl?: string;
  alertmanagerUrl?: string;
  /** With `--ha`: the Patroni cluster the checkout's and inventory's databases are on. */
  ha?: {
    replication: 'sync' | 'async';
    /** HAProxy's address, always the primary (databaseUrl's host). */
    primaryHost: string;
    haproxyStatsUrl: string;
    etcdUrl: string;
    /** For `patronictl -c <file>`, with PATRONI_ETCD3_HOSTS set to etcdUrl's host. */
    patroniConfig: string;
    nodes: {
      name: string;
      postgresUrl: string;
      apiUrl: string;
      dataDir: string;
      pid?: number | undefined;
      /** As Patroni tells it, followed every few seconds: a failover changes it. */
      role?: 'primary' | 'standby' | 'down';
    }[];
  };
  /** With `--central-logs`, when rsyslog is installed: where the services ship their lines, and its files. */
  centralLogs?: { url: string; logsDir: string };
  pids: {
    /** The first checkout instance (each one's pid is in `instances`). */
    checkout?: number;
    haproxy?: number;
    inventory?: number;
    payment?: number;
    postgres?: number;
    prometheus?: number;
    alertmanager?: number;
    rsyslog?: number;
    supervisor: number;
  };
}

/** One checkout instance as stack.json lists it. */
export interface StackInstance {
  name: string;
  url: string;
  managementUrl?: string;
  /** Behind HAProxy: where its agent check reads the instance's admission limit. */
  admissionAgentPort?: number;
  pid?: number;
}

/** The processes of a stack that is up, whose pids and addresses stack.json lists. */
export interface StackProcesses {
  /** Undefined with DATABASE_URL. */
  postgres: ManagedProcess | undefined;
  /** With `--ha`. */
  cluster?: RunningCluster | undefined;
  inventory: ManagedProcess;
  payment: ManagedProcess;
  checkouts: ManagedProcess[];
  /** With several instances: HAProxy, and its admin socket (a rolling restart drains through it). */
  haproxy: ManagedProcess | undefined;
  balancerAdmin: HaproxyAdmin | undefined;
  /** With `--monitoring`, when installed. */
  prometheus: ManagedProcess | undefined;
  alertmanager: ManagedProcess | undefined;
  /** With `--central-logs`, when installed. */
  rsyslog?: ManagedProcess | undefined;
}

/**
 * `<data dir>/stack.json`, written once the stack is up and again whenever a process restarts (its pid,
 * maybe its address, changed) or a rolling restart moves on; before the stack is up there is nothing to say.
 */
export class StackFile {
  readonly #path: string;
  #info: StackInfo | undefined;
  #processes: StackProcesses | undefined;

  constructor(dataDir: string) {
    this.#path = join(dataDir, 'stack.json');
  }

  /** What the file says; undefined until the stack is up. */
  get info(): StackInfo | undefined {
    return this.#info;
  }

  get processes(): StackProcesses | undefined {
    return this.#processes;
  }

  /** The stack is up: from now on the file says so, with these processes' current pids. */
  async publish(info: StackInfo, processes: StackProcesses): Promise<void> {
    this.#info = info;
    this.#processes = processes;
    await this.write();
  }

  async write(): Promise<void> {
    const info = this.#info;
    const processes = this.#processes;
    if (!info || !processes) return;
    info.instances = processes.checkouts.map((c) => instanceOf(c));
    for (const node of info.ha?.nodes ?? []) {
      node.pid = processes.cluster?.nodes.find((n) => n.name === node.name)?.process.pid;
    }
    info.pids = {
      checkout: processes.checkouts[0]?.pid,
      haproxy: processes.haproxy?.pid,
      inventory: processes.inventory.pid,
      payment: processes.payment.pid,
      postgres: processes.postgres?.pid,
      prometheus: processes.prometheus?.pid,
      alertmanager: processes.alertmanager?.pid,
      rsyslog: processes.rsyslog?.pid,
      supervisor: process.pid,
    };
    // It holds the PostgreSQL password and a 30-day token: readable by its owner only, as stack.env.
    await writeAtomically(this.#path, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  }
}

/** `<data dir>/stack.env`: the environment a `steadfast serve` needs to join the stack. */
export async function writeStackEnv(dataDir: string, env: Record<string, string>): Promise<void> {
  await writeAtomically(
    join(dataDir, 'stack.env'),
    `${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
    { mode: 0o600 },
  );
}

export function instanceOf(process: ManagedProcess): StackInstance {
  const { url = '', managementUrl, admissionAgentPort } = process.ready ?? {};
  return {
    name: process.name,
    url,
    ...(managementUrl ? { managementUrl } : {}),
    ...(admissionAgentPort ? { admissionAgentPort } : {}),
    pid: process.pid,
  };
}

let writes = 0;

/** Readers (scripts, tests, operators) polling the file never see it half written. */
async function writeAtomically(
  path: string,
  content: string,
  options: { mode?: number } = {},
): Promise<void> {
  const temporary = `${path}.${process.pid}.${++writes}.tmp`;
  await writeFile(temporary, content, options);
  // writeFile's mode applies only to a file it creates: a temporary file left by an earlier run keeps its own.
  if (options.mode !== undefined) await chmod(temporary, options.mode);
  await rename(temporary, path);
}
