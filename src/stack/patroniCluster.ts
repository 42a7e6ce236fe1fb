import { accessSync, constants } from 'node:fs';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, type Supervise, superviseBinary } from './binaries.ts';
import { freePortBelowEphemeral } from './freePort.ts';
import { serversUp } from './haproxyStats.ts';
import { haproxyConfigFor } from './loadBalancer.ts';
import type { ManagedProcess } from './ManagedProcess.ts';
import { searchableByOthers } from './searchable.ts';

export const PATRONI_CONFIG = fileURLToPath(new URL('../../ops/patroni/patroni.yml', import.meta.url));
export const PATRONI_HAPROXY_CONFIG = fileURLToPath(
  new URL('../../ops/patroni/haproxy.cfg', import.meta.url),
);

/** Where Debian's PostgreSQL 15 server binaries are, which Patroni runs. */
const POSTGRES_BIN_DIRS = ['/usr/lib/postgresql/15/bin'];

/** How commits reach the standby: `sync` waits for it (no commit lost in a failover), `async` does not. */
export type Replication = 'sync' | 'async';

export interface ClusterNode {
  name: string;
  /** The node's own PostgreSQL, bypassing HAProxy: for an operator's look, never for the services. */
  postgresUrl: string;
  /** Patroni's REST API: GET /primary, /replica, /patroni. */
  apiUrl: string;
  dataDir: string;
  process: ManagedProcess;
}

export interface RunningCluster {
  /** HAProxy's address, always the primary: the services' DATABASE_URL host. */
  primaryHost: string;
  haproxyStatsUrl: string;
  etcdUrl: string;
  nodes: ClusterNode[];
  etcd: ManagedProcess;
  haproxy: ManagedProcess;
  /** The Patroni configuration file, for `patronictl -c` (with PATRONI_ETCD3_HOSTS=etcd's host). */
  patroniConfig: string;
}

const NODES = ['pg-1', 'pg-2'] as const;

/**
 * The loopback network of node `index` (`127.0.11`, `127.0.12`): its PostgreSQL and REST API listen on
 * `.1`, it reaches etcd on `.2`. Linux routes all of 127.0.0.0/8 to the loopback device.
 */
function nodeNetwork(index: number): string {
  return `127.0.${11 + index}`;
}

/**
 * Two PostgreSQL 15 nodes under Patroni, elected through one etcd, and HAProxy routing to whichever is the
 * primary: `steadfast start --ha`. Each is a supervised binary, restarted like the services; a node that comes
 * back after a failover rejoins as a standby (pg_rewind).
 */
export async function startPatroniCluster(options: {
  dir: string;
  superuserPassword: string;
  replicationPassword: string;
  replication: Replication;
  superviseConsensus: Supervise;
  superviseDatabase: Supervise;
  say: (message: string) => void;
}): Promise<RunningCluster> {
  const binaries = requireBinaries();
  const runAs = await serverUser();
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  // The server's own user passes through the data directory to its node's folder, and lists nothing.
  if (runAs) await searchableByOthers(options.dir);

  const etcdClient = await freePortBelowEphemeral();
  const etcdPeer = await freePortBelowEphemeral();
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  // etcd answers each node on that node's network too: a node cut off (its network's traffic dropped)
  // loses etcd as a machine on a network of its own would, while the other still reaches it.
  const etcdOf = (node: number) => `${nodeNetwork(node)}.2:${etcdClient}`;
  const etcd = superviseBinary(
    options.superviseConsensus,
    'etcd',
    binaries.etcd,
    [
      '--name=steadfast',
      `--data-dir=${join(options.dir, 'etcd')}`,
      `--listen-client-urls=${[etcdUrl, ...NODES.map((_, i) => `http://${etcdOf(i)}`)].join(',')}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=steadfast=http://127.0.0.1:${etcdPeer}`,
    ],
    `${etcdUrl}/health`,
  );
  options.say(`starting etcd (${etcdUrl}) and two PostgreSQL nodes under Patroni`);
  await etcd.start();

  const nodes: ClusterNode[] = [];
  for (const [index, name] of NODES.entries()) {
    const pgPort = await freePortBelowEphemeral();
    const apiPort = await freePortBelowEphemeral();
    const address = `${nodeNetwork(index)}.1`;
    const nodeDir = join(options.dir, name);
    await mkdir(nodeDir, { recursive: true, mode: 0o700 });
    if (runAs) await chown(nodeDir, runAs.uid, runAs.gid);
    const env = {
      PATRONI_NAME: name,
      PATRONI_RESTAPI_LISTEN: `${address}:${apiPort}`,
      PATRONI_RESTAPI_CONNECT_ADDRESS: `${address}:${apiPort}`,
      // Patroni reaches its own PostgreSQL on 127.0.0.1 (the first address), as on its own machine;
      // everyone else on the node's address.
      PATRONI_POSTGRESQL_LISTEN: `127.0.0.1,${address}:${pgPort}`,
      PATRONI_POSTGRESQL_CONNECT_ADDRESS: `${address}:${pgPort}`,
      PATRONI_POSTGRESQL_DATA_DIR: join(nodeDir, 'data'),
      PATRONI_POSTGRESQL_BIN_DIR: binaries.postgresBinDir,
      PATRONI_POSTGRESQL_PGPASS: join(nodeDir, 'pgpass'),
      PATRONI_SUPERUSER_PASSWORD: options.superuserPassword,
      PATRONI_REPLICATION_PASSWORD: options.replicationPassword,
      PATRONI_ETCD3_HOSTS: etcdOf(index),
      ...(runAs ? { BINARY_RUN_AS: `${runAs.uid}:${runAs.gid}` } : {}),
      // Patroni detaches its postmaster: stopped with the node all the same, even paused.
      BINARY_PID_FILE: join(nodeDir, 'data', 'postmaster.pid'),
    };
    const apiUrl = `http://${address}:${apiPort}`;
    const process = superviseBinary(
      options.superviseDatabase,
      name,
      binaries.patroni,
      [PATRONI_CONFIG],
      // 200 once its PostgreSQL runs, as primary or as standby.
      `${apiUrl}/health`,
      env,
    );
    nodes.push({
      name,
      postgresUrl: `postgres://${address}:${pgPort}`,
      apiUrl,
      dataDir: join(nodeDir, 'data'),
      process,
    });
  }
  // The first node makes the cluster (initdb) and holds the lock; the second copies it and follows.
  const [first, second] = nodes as [ClusterNode, ClusterNode];
  await first.process.start();
  await waitFor(() => primaryOf(nodes).then((p) => p !== undefined), 60000, 'a primary');
  await second.process.start();
  await setReplication(nodes, options.replication);

  const haproxyDir = join(options.dir, 'haproxy');
  await mkdir(haproxyDir, { recursive: true });
  const haproxyConfig = join(haproxyDir, 'haproxy.cfg');
  await writeFile(
    haproxyConfig,
    haproxyConfigFor(
      await readFile(PATRONI_HAPROXY_CONFIG, 'utf8'),
      nodes.map((n) => ({
        name: n.name,
        url: `http://${new URL(n.postgresUrl).host}`,
        managementUrl: n.apiUrl,
      })),
    ),
  );
  const port = await freePortBelowEphemeral();
  const statsPort = await freePortBelowEphemeral();
  const haproxy = superviseBinary(
    options.superviseDatabase,
    'haproxy-postgres',
    binaries.haproxy,
    ['-db', '-f', haproxyConfig],
    `http://127.0.0.1:${statsPort}/`,
    { HAPROXY_BIND: `127.0.0.1:${port}`, HAPROXY_STATS_BIND: `127.0.0.1:${statsPort}` },
  );
  await haproxy.start();
  // HAProxy counts a server up until its checks say otherwise: until the standby's first checks fail, a
  // connection could reach it and meet a read-only server.
  const statsUrl = `http://127.0.0.1:${statsPort}`;
  await waitFor(
    async () => (await serversUp(statsUrl, 'primary')).join() === (await primaryOf(nodes))?.name,
    30000,
    'primary alone behind HAProxy',
  );
  return {
    primaryHost: `127.0.0.1:${port}`,
    haproxyStatsUrl: statsUrl,
    etcdUrl,
    nodes,
    etcd,
    haproxy,
    patroniConfig: PATRONI_CONFIG,
  };
}

/** What a node is now: Patroni's leader, a standby of it, or neither (down, or starting). */
export type NodeRole = 'primary' | 'standby' | 'down';

/**
 * Each node's role as the cluster tells it (Patroni's `/cluster`, from the first node that answers):
 * every node `down` when none answers.
 */
export async function rolesOf(nodes: readonly ClusterNode[]): Promise<Record<string, NodeRole>> {
  const roles = Object.fromEntries(nodes.map((n) => [n.name, 'down' as NodeRole]));
  for (const node of nodes) {
    const answer = await fetch(`${node.apiUrl}/cluster`, { signal: AbortSignal.timeout(1000) }).catch(
      () => undefined,
    );
    if (!answer?.ok) continue;
    const { members } = (await answer.json()) as { members: { name: string; role: string; state: string }[] };
    for (const member of members) {
      if (!(member.name in roles) || !/running|streaming/.test(member.state)) continue;
      roles[member.name] = member.role === 'leader' ? 'primary' : 'standby';
    }
    return roles;
  }
  return roles;
}

/** The node whose Patroni says it is the primary now, if any. */
export async function primaryOf(nodes: readonly ClusterNode[]): Promise<ClusterNode | undefined> {
  for (const node of nodes) {
    const answer = await fetch(`${node.apiUrl}/primary`, { signal: AbortSignal.timeout(1000) }).catch(
      () => undefined,
    );
    if (answer?.status === 200) return node;
  }
  return undefined;
}

/**
 * The replication mode asked for, set in the cluster's configuration (etcd) through the primary's API, on
 * every start: the file's bootstrap section only applies when the cluster is first made.
 */
async function setReplication(nodes: readonly ClusterNode[], replication: Replication): Promise<void> {
  const primary = await primaryOf(nodes);
  if (!primary) throw new Error('the Patroni cluster has no primary');
  const answer = await fetch(`${primary.apiUrl}/config`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ synchronous_mode: replication === 'sync' }),
  });
  if (!answer.ok)
    throw new Error(`Patroni refused the replication mode: ${answer.status} ${await answer.text()}`);
  if (replication === 'sync') {
    // Until the standby is named synchronous, a commit is not yet guaranteed to be on two nodes.
    await waitFor(
      async () => {
        const cluster = (await (await fetch(`${primary.apiUrl}/cluster`)).json()) as {
          members: { role: string; state: string }[];
        };
        return cluster.members.some((m) => m.role === 'sync_standby' && /running|streaming/.test(m.state));
      },
      60000,
      'a synchronous standby',
    );
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the Patroni cluster has no ${what} after ${timeoutMs / 1000} s`);
}

function requireBinaries(): { patroni: string; etcd: string; haproxy: string; postgresBinDir: string } {
  const patroni = findBinary(['patroni']);
  const etcd = findBinary(['etcd']);
  const haproxy = findBinary(['haproxy']);
  const postgresBinDir = POSTGRES_BIN_DIRS.find(isServerBinDir);
  if (!patroni || !etcd || !haproxy || !postgresBinDir) {
    const missing = [
      [patroni, 'patroni'],
      [etcd, 'etcd-server'],
      [haproxy, 'haproxy'],
      [postgresBinDir, 'postgresql-15'],
    ].flatMap(([found, name]) => (found ? [] : [name]));
    throw new Error(
      `--ha needs Patroni, etcd, HAProxy and PostgreSQL 15; on Debian or Ubuntu: sudo apt-get install ${missing.join(' ')}`,
    );
  }
  return { patroni, etcd, haproxy, postgresBinDir };
}

function isServerBinDir(dir: string): boolean {
  try {
    accessSync(join(dir, 'postgres'), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** As root, PostgreSQL runs as the `postgres` system user (Debian's packages make it); otherwise as us. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd.split('\n').find((line) => line.startsWith('postgres:'));
  const [, , uid, gid] = entry?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      '--ha as root runs PostgreSQL as the postgres user, and there is none (apt-get install postgresql-15)',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}
