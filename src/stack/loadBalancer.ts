import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, type Supervise, superviseBinary } from './binaries.ts';
import { freePort } from './freePort.ts';
import { HaproxyAdmin } from './HaproxyAdmin.ts';
import type { ManagedProcess } from './ManagedProcess.ts';

export const HAPROXY_CONFIG = fileURLToPath(new URL('../../ops/haproxy/haproxy.cfg', import.meta.url));
export const HAPROXY_ERRORS = fileURLToPath(new URL('../../ops/haproxy/errors', import.meta.url));

const SERVERS_MARKER = '# servers (one line per instance)';
const CHECKOUT_SERVERS_MARKER = '# checkout servers (one line per instance)';

/** An instance behind HAProxy: its API, and the listener its health is checked on when apart. */
export interface BalancedInstance {
  name: string;
  url: string;
  managementUrl?: string | undefined;
  /** Where its agent reports its admission limit (ADMISSION_AGENT_PORT), on the management host. */
  admissionAgentPort?: number | undefined;
}

/** `lines` with the `server` lines after `marker` replaced by `servers`; unchanged without the marker. */
function replaceServers(lines: string[], marker: string, servers: string[]): string[] {
  const at = lines.findIndex((line) => line.trim() === marker);
  if (at < 0) return lines;
  let end = at + 1;
  while (lines[end]?.trim().startsWith('server ')) end++;
  return [...lines.slice(0, at + 1), ...servers, ...lines.slice(end)];
}

/**
 * The shipped HAProxy configuration with its `server` lines replaced by one per instance: in the backend
 * of every route, checked on the management listener when apart; and, where the configuration has one,
 * in the checkout's, each following its twin and reading its agent.
 */
export function haproxyConfigFor(template: string, instances: readonly BalancedInstance[]): string {
  const lines = template.split('\n');
  if (!lines.some((line) => line.trim() === SERVERS_MARKER)) {
    throw new Error(`the HAProxy configuration has no '${SERVERS_MARKER}' line`);
  }
  const host = (i: BalancedInstance) => new URL(i.url).host;
  const servers = instances.map(
    (i) =>
      `    server ${i.name} ${host(i)}${i.managementUrl ? ` check port ${new URL(i.managementUrl).port}` : ''}`,
  );
  const checkoutServers = instances.map(
    (i) =>
      `    server ${i.name} ${host(i)} track checkout/${i.name}` +
      (i.admissionAgentPort ? ` agent-check agent-port ${i.admissionAgentPort} agent-inter 250ms` : ''),
  );
  return replaceServers(
    replaceServers(lines, SERVERS_MARKER, servers),
    CHECKOUT_SERVERS_MARKER,
    checkoutServers,
  ).join('\n');
}

/**
 * HAProxy on `port` in front of the checkout instances, with the shipped configuration (its checks on
 * /health/ready, its retries, its errors in problem+json), supervised like the services.
 */
export async function startLoadBalancer(options: {
  dir: string;
  port: number;
  statsPort: number;
  instances: readonly BalancedInstance[];
  supervise: Supervise;
}): Promise<{ process: ManagedProcess; url: string; statsUrl: string; admin: HaproxyAdmin }> {
  const haproxy = findBinary(['haproxy']);
  if (!haproxy) {
    throw new Error(
      'several instances need HAProxy, which is not installed; on Debian or Ubuntu: sudo apt-get install haproxy',
    );
  }
  await mkdir(options.dir, { recursive: true });
  const config = join(options.dir, 'haproxy.cfg');
  await writeFile(config, haproxyConfigFor(await readFile(HAPROXY_CONFIG, 'utf8'), options.instances));
  // HAProxy binds no port 0: a free one is picked for it.
  const port = options.port || (await freePort());
  const statsPort = options.statsPort || (await freePort());
  const statsUrl = `http://127.0.0.1:${statsPort}`;
  const adminSocket = join(options.dir, 'admin.sock');
  const balancer = superviseBinary(
    options.supervise,
    'haproxy',
    haproxy,
    ['-db', '-f', config],
    `${statsUrl}/`,
    {
      HAPROXY_BIND: `127.0.0.1:${port}`,
      HAPROXY_STATS_BIND: `127.0.0.1:${statsPort}`,
      HAPROXY_ERRORS,
      HAPROXY_ADMIN_SOCKET: adminSocket,
    },
  );
  await balancer.start();
  return {
    process: balancer,
    url: `http://127.0.0.1:${port}`,
    statsUrl,
    admin: new HaproxyAdmin(adminSocket, 'checkout'),
  };
}
