import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import pino from 'pino';
import { percentEncode } from '../../../test/support/adversarial.ts';
import { createHttpServer } from '../../platform/http/createHttpServer.ts';
import { PlatformMetrics } from '../../platform/metrics/PlatformMetrics.ts';
import { FaultSwitch } from '../faultSwitch.ts';
import { registerInventoryRoutes } from './app.ts';
import { MAX_UNITS_PER_SKU, type StockStore } from './StockStore.ts';

/** The routes over a store that only records what reached it: a refusal must reach nothing. */
function inventory(options: { restockRefused?: boolean } = {}) {
  const restocked = options.restockRefused
    ? undefined
    : { sku: 'sku_mug', initial: 1, available: 1, reserved: 0, sold: 0 };
  const calls: string[] = [];
  const record =
    (method: string, answer: unknown) =>
    async (..._args: unknown[]) => {
      calls.push(method);
      return answer;
    };
  const store = {
    reserve: record('reserve', { ok: true, status: 'reserved', expiresAt: '2026-12-02T00:00:00.000Z' }),
    commitMany: record('commitMany', []),
    commit: record('commit', { ok: true, status: 'committed' }),
    release: record('release', { ok: true, status: 'released' }),
    restock: record('restock', restocked),
    listReservations: async (status: string, after: string, limit: number) => {
      calls.push(`listReservations ${status} ${JSON.stringify(after)} ${limit}`);
      return HELD.slice(0, limit);
    },
  } as unknown as StockStore;
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const app = createHttpServer({
    logger: pino(sink),
    metrics: new PlatformMetrics('inventory-unit'),
    bodyLimit: 65536,
  });
  registerInventoryRoutes(app, store, new FaultSwitch(), false);
  const send = async (url: string, body?: unknown) => {
    const response = await app.inject({
      method: 'POST',
      url,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) }),
    });
    return {
      status: response.statusCode,
      contentType: String(response.headers['content-type']),
      body: response.json() as { error?: string; fields?: { field: string }[] },
    };
  };
  const get = async (url: string) => {
    const response = await app.inject({ method: 'GET', url });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };
  return { calls, send, get };
}

const HELD = ['res-a', 'res-b'].map((reservationId) => ({
  reservationId,
  status: 'reserved',
  expiresAt: '2026-12-02T00:00:00.000Z',
  items: [{ sku: 'sku_mug', quantity: 1 }],
}));

const UNSTORABLE = ['res\u0000', 'res\ud800', '\udfffres', 'res\u009b', 'res\u007f', 'res\r\n'];

describe('inventory service: ids it cannot store are refused with 400, and reach nothing', () => {
  test('a reservation id in a body, a list of them, or a path', async () => {
    const { calls, send } = inventory();
    for (const id of UNSTORABLE) {
      const what = JSON.stringify(id);
      const reserve = await send('/reservations', {
        reservationId: id,
        items: [{ sku: 'sku_mug', quantity: 1 }],
        ttlSeconds: 60,
      });
      assert.equal(reserve.status, 400, what);
      assert.match(reserve.contentType, /^application\/problem\+json/, what);
      assert.equal(reserve.body.error, 'VALIDATION_FAILED', what);
      assert.equal(reserve.body.fields?.[0]?.field, 'reservationId', what);
      const batch = await send('/reservations/commit', { reservationIds: ['ok-1', id] });
      assert.equal(batch.status, 400, what);
      assert.equal(batch.body.fields?.[0]?.field, 'reservationIds.1', what);
      for (const action of ['commit', 'release']) {
        const path = await send(`/reservations/${percentEncode(id)}/${action}`);
        assert.equal(path.status, 400, `${action} ${what}: ${JSON.stringify(path.body)}`);
      }
    }
    assert.deepEqual(calls, []);
  });

  test('an id of any script still passes', async () => {
    const { calls, send } = inventory();
    const reserve = await send('/reservations', {
      reservationId: 'Grüße-東京-😀-e\u0301',
      items: [{ sku: 'sku_mug', quantity: 1 }],
      ttlSeconds: 60,
    });
    assert.equal(reserve.status, 201);
    assert.deepEqual(calls, ['reserve']);
  });

  test('a restock past what a SKU can count: 409 STOCK_LIMIT_EXCEEDED, not a 500', async () => {
    const { send } = inventory({ restockRefused: true });
    const answer = await send('/stock/sku_mug/restock', { quantity: 1_000_000 });
    assert.equal(answer.status, 409, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, {
      error: 'STOCK_LIMIT_EXCEEDED',
      sku: 'sku_mug',
      maxUnits: MAX_UNITS_PER_SKU,
    });
  });

  test('a list of reservations takes a status, a page size of 1 to 1000 and an id to start after', async () => {
    const { calls, get } = inventory();
    for (const query of [
      '',
      'status=lost',
      'status=reserved&limit=0',
      'status=reserved&limit=1001',
      'status=reserved&limit=1e3',
      `status=reserved&after=${percentEncode('res\u0000')}`,
    ]) {
      const answer = await get(`/reservations?${query}`);
      assert.equal(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, query ? 'VALIDATION_FAILED' : 'MISSING_REQUIRED_FIELDS', query);
    }
    assert.deepEqual(calls, []);
    // A full page names where the next starts; a short one ends the list.
    const full = await get('/reservations?status=reserved&limit=2');
    assert.deepEqual(full, { status: 200, body: { reservations: HELD, next: 'res-b' } });
    const last = await get('/reservations?status=reserved&after=res-a');
    assert.deepEqual(last, { status: 200, body: { reservations: HELD, next: null } });
    assert.deepEqual(calls, ['listReservations reserved "" 2', 'listReservations reserved "res-a" 100']);
  });
});
