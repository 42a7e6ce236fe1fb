import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A TCP port of 127.0.0.1 that nothing listens on (at the moment of asking). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Where ports picked by hand start: above the well-known and most registered ones. */
const LOWEST = 10000;

/**
 * A free port below the kernel's ephemeral range, for one that must be known before the processes
 * around it start: a port of that range, free now, may be handed meanwhile to any of them that asks
 * for port 0 (as the stack's sandboxes and PostgreSQL do under test), and the later bind would fail.
 */
export async function freePortBelowEphemeral(): Promise<number> {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
  const ephemeralFrom = Number(range.trim().split(/\s+/)[0]) || 32768;
  for (let tries = 0; tries < 50; tries++) {
    const port = LOWEST + Math.floor(Math.random() * (ephemeralFrom - LOWEST));
    if (await canListen(port)) return port;
  }
  return freePort();
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
