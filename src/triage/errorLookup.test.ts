import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lookupError } from './errorLookup.ts';

const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 'info', ...fields });

test("an error's trace is followed under trace_id and under traceId, the name older logs wrote", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-lookup-'));
  try {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    // The checkout's log of this version; the gateway's from before the rename.
    await writeFile(
      join(dir, 'checkout.log'),
      [
        line({
          time: '2026-01-01T00:00:01.000Z',
          service: 'checkout',
          msg: 'boom',
          errorId: 'ERR-1-A',
          trace_id: trace,
          span_id: '00f067aa0ba902b7',
          stack: 'Error: boom',
        }),
        line({
          time: '2026-01-01T00:00:02.000Z',
          service: 'checkout',
          msg: 'request_completed',
          trace_id: trace,
        }),
        line({
          time: '2026-01-01T00:00:02.500Z',
          service: 'checkout',
          msg: 'request_completed',
          trace_id: 'a'.repeat(32),
        }),
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'payment.log'),
      [
        line({
          time: '2026-01-01T00:00:00.500Z',
          service: 'payment',
          msg: 'request_completed',
          traceId: trace,
        }),
        line({
          time: '2026-01-01T00:00:00.700Z',
          service: 'payment',
          msg: 'request_completed',
          traceId: 'b'.repeat(32),
        }),
      ].join('\n'),
    );
    const lookup = await lookupError([dir], 'ERR-1-A');
    assert.equal(lookup.found, true);
    assert.deepEqual(
      lookup.related.map((found) => [found.record.service, found.record.time]),
      [
        ['payment', '2026-01-01T00:00:00.500Z'],
        ['checkout', '2026-01-01T00:00:01.000Z'],
        ['checkout', '2026-01-01T00:00:02.000Z'],
      ],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
