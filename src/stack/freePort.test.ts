import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePortBelowEphemeral } from './freePort.ts';

test('a port picked ahead is free, and never one a bind to port 0 could be handed meanwhile', async () => {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  const ephemeralFrom = Number(range.trim().split(/\s+/)[0]);
  for (let i = 0; i < 20; i++) {
    const port = await freePortBelowEphemeral();
    assert.ok(port >= 10000 && port < ephemeralFrom, `${port} below ${ephemeralFrom}`);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  }
});
