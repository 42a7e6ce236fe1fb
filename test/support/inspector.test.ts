import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { constructorGrowth, constructorTotals, Inspector, inspectorUrlInLog } from './inspector.ts';
import { growthPerRequest, SOAK_RETENTION } from './soakVerdict.ts';

const fixture = fileURLToPath(new URL('./leakyServer.fixture.ts', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** The fixture server with its inspector, its stderr in a log file as a supervised service's is. */
async function startServer(env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-inspector-'));
  dirs.push(dir);
  const log = await open(join(dir, 'server.log'), 'w');
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', fixture], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', log.fd],
  });
  if (!child.stdout) throw new Error('the fixture has no stdout');
  const [url] = (await once(child.stdout, 'data')).map((chunk: Buffer) => chunk.toString().trim());
  const inspector = await Inspector.connect(await inspectorUrlInLog(join(dir, 'server.log')));
  return {
    url: url as string,
    inspector,
    async stop() {
      inspector.close();
      child.kill();
      await once(child, 'exit');
      await log.close();
    },
  };
}

/** `rounds` of `perRound` requests, 8 at a time, each round followed by a full GC and a sample. */
async function soak(server: Awaited<ReturnType<typeof startServer>>, rounds: number, perRound: number) {
  const heap: [number, number][] = [];
  const external: [number, number][] = [];
  let served = 0;
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        for (let i = lane; i < perRound; i += 8) await (await fetch(`${server.url}/r/${served + i}`)).text();
      }),
    );
    served += perRound;
    const memory = await server.inspector.memoryAfterFullGc();
    heap.push([served, memory.heapUsedBytes / 2 ** 20]);
    external.push([served, memory.externalBytes / 2 ** 20]);
  }
  return {
    heap: growthPerRequest(heap, SOAK_RETENTION),
    external: growthPerRequest(external, SOAK_RETENTION),
  };
}

test('a server that keeps nothing per request passes, though each request makes garbage', async () => {
  const server = await startServer({});
  try {
    await soak(server, 1, 500); // warm-up
    const { heap, external } = await soak(server, 8, 500);
    assert.ok(heap.growthMb < 1, `heap grew ${heap.growthMb.toFixed(2)} MB`);
    assert.ok(heap.growthMb <= heap.allowedMb && external.growthMb <= external.allowedMb);
  } finally {
    await server.stop();
  }
});

test('two kilobytes kept per request in the heap fail the verdict, and the snapshots name them', async () => {
  const server = await startServer({ LEAK_BYTES: '2048', LEAK_KIND: 'heap' });
  try {
    await soak(server, 1, 500);
    const before = constructorTotals(await server.inspector.heapSnapshot());
    const { heap } = await soak(server, 8, 500);
    const grown = constructorGrowth(before, constructorTotals(await server.inspector.heapSnapshot()), 5);
    assert.ok(heap.growthMb > heap.allowedMb, `growth ${heap.growthMb} within ${heap.allowedMb}`);
    assert.ok(heap.perThousandMb > 1.5, `rate ${heap.perThousandMb} MB per 1000`);
    const leaked = grown.find((g) => g.name === 'LeakedRequest');
    assert.ok(leaked && leaked.count >= 4000, JSON.stringify(grown));
  } finally {
    await server.stop();
  }
});

test('two kilobytes kept per request outside the heap (Buffers) fail the verdict on external memory', async () => {
  const server = await startServer({ LEAK_BYTES: '2048', LEAK_KIND: 'external' });
  try {
    await soak(server, 1, 500);
    const { external } = await soak(server, 8, 500);
    assert.ok(
      external.growthMb > external.allowedMb,
      `growth ${external.growthMb} within ${external.allowedMb}`,
    );
  } finally {
    await server.stop();
  }
});
