import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { FaultProxy } from '../../../test/support/faultProxy.ts';
import { startTestPostgres, type TestPostgres } from '../../../test/support/postgres.ts';
import { serverWithLogs } from '../http/httpServer.fixture.ts';
import { READ_ONLY, registerHealthRoutes } from './healthRoutes.ts';

const INTERVAL_MS = 200;
const SETTINGS = {
  HEALTH_CHECK_TIMEOUT_MS: 400,
  HEALTH_CHECK_INTERVAL_MS: INTERVAL_MS,
  HEALTH_MEMORY_MAX_PCT: 100,
  HEALTH_BREAKER_STUCK_MS: 300_000,
};

describe('readiness: a database that answers but takes no writes is not ready [PostgreSQL]', () => {
  let postgres: TestPostgres;
  let url: string;
  before(async () => {
    postgres = await startTestPostgres();
    url = await postgres.createDatabase('health_test');
  });
  after(() => postgres?.stop());

  test("a connection cut under the probe's query (a failover) is an unready answer, never the process's end", async () => {
    const proxy = await FaultProxy.start(url);
    const { app } = serverWithLogs();
    registerHealthRoutes([app], {
      databaseUrl: proxy.urlFor(url),
      dependencies: [],
      settings: SETTINGS,
      isDraining: () => false,
    });
    const status = async () => (await app.inject({ method: 'GET', url: '/health' })).statusCode;
    try {
      assert.equal(await status(), 200, 'the probe connected, and keeps its connection');
      await sleep(INTERVAL_MS);
      // The next check's query hangs on the kept connection; then the connection is reset under it.
      await proxy.set({ mode: 'hang' });
      await status();
      await sleep(100);
      await proxy.set({ mode: 'reset' });
      let unready = 0;
      for (let i = 0; i < 40 && unready !== 503; i++) {
        await sleep(INTERVAL_MS / 2);
        unready = await status();
      }
      assert.equal(unready, 503, 'unready while the database cannot be reached');
      await sleep(1000);
      await proxy.set({ mode: 'none' });
      let back = 0;
      for (let i = 0; i < 40 && back !== 200; i++) {
        await sleep(INTERVAL_MS / 2);
        back = await status();
      }
      assert.equal(back, 200, 'ready again by itself');
    } finally {
      await app.close();
      await proxy.close();
    }
  });

  test('unready while the node is read-only, ready again by itself once the address leads to a writable one', async () => {
    const { app } = serverWithLogs();
    registerHealthRoutes([app], {
      databaseUrl: url,
      dependencies: [],
      settings: SETTINGS,
      isDraining: () => false,
    });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const health = async () => {
      const answer = await app.inject({ method: 'GET', url: '/health' });
      return { status: answer.statusCode, body: answer.json() as Record<string, unknown> };
    };
    /** The answer once it is `status`: the check runs at most once an interval, its result reused between. */
    const healthOnceIt = async (status: number) => {
      const deadline = Date.now() + 20 * INTERVAL_MS;
      for (;;) {
        const answer = await health();
        if (answer.status === status || Date.now() > deadline) return answer;
        await sleep(INTERVAL_MS / 4);
      }
    };
    try {
      assert.equal((await health()).status, 200);
      await admin.query('ALTER DATABASE health_test SET default_transaction_read_only = on');
      // The probe's kept connection predates the change: a failover's demotion ends it.
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'health-check'",
      );
      const readOnly = await healthOnceIt(503);
      assert.equal(readOnly.status, 503);
      assert.equal(readOnly.body.db, 'read_only');
      assert.match(String(readOnly.body.error), new RegExp(READ_ONLY.replace(/[()]/g, '\\$&')));
      await admin.query('ALTER DATABASE health_test SET default_transaction_read_only = off');
      const writable = await healthOnceIt(200);
      assert.equal(writable.status, 200, JSON.stringify(writable.body));
      assert.equal(writable.body.db, 'connected');
    } finally {
      await admin.query('ALTER DATABASE health_test RESET default_transaction_read_only');
      await admin.end();
      await app.close();
    }
  });
});
