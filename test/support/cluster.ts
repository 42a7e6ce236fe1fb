import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackInfo } from '../../src/stack/stackFile.ts';
import { eventually, type TestStack } from './stack.ts';

type ClusterInfo = NonNullable<StackInfo['ha']>;
export type ClusterNodeInfo = ClusterInfo['nodes'][number];

interface Member {
  name: string;
  role: string;
  state: string;
}

/** The cluster as Patroni's REST API tells it, from the first node that answers. */
export async function members(cluster: ClusterInfo): Promise<Member[]> {
  for (const node of cluster.nodes) {
    const answer = await fetch(`${node.apiUrl}/cluster`, { signal: AbortSignal.timeout(1000) }).catch(
      () => undefined,
    );
    if (answer?.ok) return ((await answer.json()) as { members: Member[] }).members;
  }
  return [];
}

/** The node holding the leader lock now. */
export async function primary(cluster: ClusterInfo): Promise<ClusterNodeInfo> {
  const leader = (await members(cluster)).find((m) => m.role === 'leader');
  const node = cluster.nodes.find((n) => n.name === leader?.name);
  if (!node) throw new Error('the cluster has no primary');
  return node;
}

/** Both nodes running, one the leader, the other streaming from it (as a synchronous standby when sync). */
export async function healthy(cluster: ClusterInfo, replication: 'sync' | 'async'): Promise<boolean> {
  const all = await members(cluster);
  const standby = replication === 'sync' ? 'sync_standby' : 'replica';
  return (
    all.length === 2 &&
    all.some((m) => m.role === 'leader' && m.state === 'running') &&
    // Patroni 3.0 says `running` of a standby that streams; later versions say `streaming`.
    all.some((m) => m.role === standby && (m.state === 'running' || m.state === 'streaming'))
  );
}

export const waitHealthy = (cluster: ClusterInfo, replication: 'sync' | 'async') =>
  eventually(() => healthy(cluster, replication), 90_000, 'both nodes back, the standby streaming');

/** The postmaster of a node, from its pid file (the node's pid in stack.json is its Patroni's). */
export async function postmasterOf(node: ClusterNodeInfo): Promise<number> {
  return Number((await readFile(join(node.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

/** Every process of the node: its Patroni, its postmaster and the postmaster's backends. */
export async function processesOf(stack: TestStack, name: string): Promise<number[]> {
  const node = await nodeNow(stack, name);
  const postmaster = await postmasterOf(node);
  return [node.pid as number, postmaster, ...descendants(postmaster)];
}

/** The node as stack.json says now: its pid changes when the supervisor restarts it. */
export async function nodeNow(stack: TestStack, name: string): Promise<ClusterNodeInfo> {
  const info = JSON.parse(await readFile(join(stack.dataDir, 'stack.json'), 'utf8')) as StackInfo;
  const node = info.ha?.nodes.find((n) => n.name === name);
  if (!node?.pid) throw new Error(`stack.json names no running ${name}`);
  return node;
}

/** The supervisor's wrapper of a node's Patroni: stopped, it cannot report the node gone, so no restart. */
export async function wrapperOf(stack: TestStack, name: string): Promise<number> {
  const node = await nodeNow(stack, name);
  const stat = await readFile(`/proc/${node.pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Sends `signal` to each pid still there (a backend may have ended meanwhile). */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

/**
 * Cuts a node off the network: every packet to or from its loopback network (`127.0.11.0/24` for pg-1:
 * its PostgreSQL, its REST API, its way to etcd) is dropped by an nftables table of the test's own, as a
 * switch that fails would. Patroni still reaches its own PostgreSQL on 127.0.0.1, as on its machine.
 * Returns the heal: the table removed.
 */
export function partition(node: ClusterNodeInfo): () => void {
  const network = `${new URL(node.postgresUrl).hostname.split('.').slice(0, 3).join('.')}.0/24`;
  const table = `steadfast_partition_${node.name.replace(/\W/g, '_')}`;
  const heal = () => {
    try {
      execFileSync('nft', ['delete', 'table', 'inet', table], { stdio: 'ignore' });
    } catch {}
  };
  heal();
  execFileSync('nft', ['-f', '-'], {
    input: `table inet ${table} {
      chain out {
        type filter hook output priority 0; policy accept;
        ip saddr ${network} drop
        ip daddr ${network} drop
      }
    }\n`,
  });
  return heal;
}

function descendants(pid: number): number[] {
  try {
    const children = execFileSync('pgrep', ['-P', String(pid)])
      .toString()
      .trim()
      .split('\n')
      .map(Number);
    return children.flatMap((child) => [child, ...descendants(child)]);
  } catch {
    return [];
  }
}

/** What the clients of a load saw: each answer with when it was sent and when it came. */
export interface Answer {
  cart: string;
  status: number;
  error: string | undefined;
  sentAt: number;
  answeredAt: number;
}

/**
 * Keyed checkouts of `carts` from `clients` at a time, each retried with its key after a 503 (waiting its
 * Retry-After) or an in-flight 409, as a well-behaved client does, until a final answer or `deadlineMs`.
 */
export async function keyedLoad(
  stack: TestStack,
  carts: readonly { cartId: string; token: string; key: string }[],
  options: { clients: number; deadlineMs: number; onAnswer?: (answer: Answer) => void },
): Promise<{ answers: Answer[]; finals: Map<string, number> }> {
  const answers: Answer[] = [];
  const finals = new Map<string, number>();
  const deadline = Date.now() + options.deadlineMs;
  const queue = [...carts];
  const client = async () => {
    for (let cart = queue.shift(); cart; cart = queue.shift()) {
      while (Date.now() < deadline) {
        const sentAt = Date.now();
        const response = await fetch(`${stack.info.checkoutUrl}/api/checkout/complete`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${cart.token}`,
            'content-type': 'application/json',
            'idempotency-key': cart.key,
          },
          body: JSON.stringify({ cartId: cart.cartId, paymentToken: 'pm_card_visa' }),
        }).catch(() => undefined);
        const text = (await response?.text().catch(() => '')) ?? '';
        const error = text.startsWith('{') ? (JSON.parse(text) as { error?: string }).error : undefined;
        const answer = {
          cart: cart.cartId,
          status: response?.status ?? 0,
          error,
          sentAt,
          answeredAt: Date.now(),
        };
        answers.push(answer);
        options.onAnswer?.(answer);
        const inFlight = error === 'IDEMPOTENCY_KEY_IN_USE' || error === 'CHECKOUT_IN_PROGRESS';
        if (answer.status === 201 || (answer.status >= 400 && answer.status < 500 && !inFlight)) {
          finals.set(cart.cartId, answer.status);
          break;
        }
        const retryAfter = Number(response?.headers.get('retry-after')) || 0.2;
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter, 2) * 1000));
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  return { answers, finals };
}

/** The failover's timings as the clients saw them, from the moment of the fault. */
export function timings(answers: readonly Answer[], faultAt: number) {
  const after = answers.filter((a) => a.answeredAt >= faultAt);
  const refused = after.filter((a) => a.status === 503);
  const firstOk = after.find((a) => a.status === 201 && a.sentAt >= faultAt);
  return {
    unavailable: refused.length,
    firstUnavailableMs: refused.length ? Math.min(...refused.map((a) => a.answeredAt)) - faultAt : undefined,
    lastUnavailableMs: refused.length ? Math.max(...refused.map((a) => a.answeredAt)) - faultAt : undefined,
    firstCheckoutMs: firstOk ? firstOk.answeredAt - faultAt : undefined,
    other: after
      .filter((a) => a.status !== 201 && a.status !== 503 && a.status !== 409)
      .map((a) => `${a.status} ${a.error}`),
  };
}
