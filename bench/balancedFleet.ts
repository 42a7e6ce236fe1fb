import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../src/stack/freePort.ts';
import { serversUp } from '../src/stack/haproxyStats.ts';
import { HAPROXY_CONFIG, HAPROXY_ERRORS, haproxyConfigFor } from '../src/stack/loadBalancer.ts';
import type { ExtraInstance, TestStack } from '../test/support/stack.ts';
import { raisePriority } from './raisePriority.ts';

export interface BalancedFleet {
  /** HAProxy's frontend. */
  url: string;
  instances: ExtraInstance[];
  /** Every instance's /metrics, one after the other: histograms of the fleet add up. */
  scrape: () => Promise<string>;
  stop: () => Promise<void>;
}

/**
 * `count` checkout instances of the stack behind HAProxy with the shipped configuration (its checks on
 * each instance's management listener, the admission limit each instance's agent reports, its retries),
 * as `steadfast start --instances` runs them; ready when HAProxy counts every instance up.
 */
export async function startBalancedFleet(
  stack: TestStack,
  count: number,
  env: Record<string, string> = {},
): Promise<BalancedFleet> {
  const instances: ExtraInstance[] = [];
  const managementPorts: number[] = [];
  const agentPorts: number[] = [];
  for (let i = 0; i < count; i++) {
    const [managementPort, agentPort] = [await freePort(), await freePort()];
    managementPorts.push(managementPort);
    agentPorts.push(agentPort);
    instances.push(
      await stack.serve({
        ...env,
        MANAGEMENT_PORT: String(managementPort),
        ADMISSION_AGENT_PORT: String(agentPort),
      }),
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  await writeFile(
    config,
    haproxyConfigFor(
      await readFile(HAPROXY_CONFIG, 'utf8'),
      instances.map((instance, i) => ({
        name: `checkout-${i + 1}`,
        url: instance.url,
        managementUrl: `http://127.0.0.1:${managementPorts[i]}`,
        admissionAgentPort: agentPorts[i],
      })),
    ),
  );
  const [port, statsPort] = [await freePort(), await freePort()];
  const haproxy = spawn('haproxy', ['-db', '-f', config], {
    env: {
      ...process.env,
      HAPROXY_BIND: `127.0.0.1:${port}`,
      HAPROXY_STATS_BIND: `127.0.0.1:${statsPort}`,
      HAPROXY_ERRORS,
      HAPROXY_ADMIN_SOCKET: join(dir, 'admin.sock'),
    },
    // Its log line per request goes nowhere: the bench measures answers, not HAProxy's logging.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // A balancer has cores of its own in production: here it shares two with what it balances, and runs
  // ahead of them, so that its own answers are not queued behind the instances' work.
  if (haproxy.pid) raisePriority(haproxy.pid);
  const exited = once(haproxy, 'exit');
  const stop = async () => {
    haproxy.kill('SIGTERM');
    await exited;
    for (const instance of instances) instance.child.kill('SIGTERM');
    await Promise.all(instances.map((instance) => instance.exited));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30_000;
    const up = () => serversUp(`http://127.0.0.1:${statsPort}`, 'checkout').catch(() => []);
    while ((await up()).length < count) {
      if (haproxy.exitCode !== null) throw new Error(`haproxy exited with ${haproxy.exitCode}`);
      if (Date.now() > deadline) throw new Error(`HAProxy did not count ${count} instances up in 30 s`);
      await sleep(200);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    instances,
    scrape: async () =>
      (
        await Promise.all(
          managementPorts.map(async (port) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()),
        )
      ).join('\n'),
    stop,
  };
}
