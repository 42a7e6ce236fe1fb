import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '../../../test/support/postgres.ts';
import { DependencyUnavailableError } from '../errors/DependencyUnavailableError.ts';
import { PlatformMetrics } from '../metrics/PlatformMetrics.ts';
import { Database } from './Database.ts';

describe('Database: a pool that cannot hang and cannot crash the process [PostgreSQL]', () => {
  let postgres: TestPostgres;
  let url: string;
  const database = (overrides: Partial<ConstructorParameters<typeof Database>[0]> = {}) =>
    new Database({
      url,
      applicationName: 'database-test',
      poolMax: 2,
      queueMax: 1,
      connectTimeoutMs: 1000,
      statementTimeoutMs: 500,
      idleInTransactionTimeoutMs: 2000,
      ...overrides,
    });

  before(async () => {
    postgres = await startTestPostgres();
    url = await postgres.createDatabase('database_test');
  });
  after(() => postgres?.stop());

  test('a connection dropped between two statements of a transaction is a 503, not a crash', async () => {
    const db = database();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await assert.rejects(
        db.transaction(async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
          // The dropped connection reports its error while the client is checked out and idle.
          await sleep(300);
          await tx.query('SELECT 1');
        }),
        (error) => error instanceof DependencyUnavailableError && error.dependency === 'database',
      );
      assert.equal(
        (await db.query('SELECT 1 AS one')).rows[0]?.one,
        1,
        'the pool goes on with a new connection',
      );
    } finally {
      await admin.end();
      await db.close();
    }
  });

  test('a node that takes no writes (a standby, a demoted primary) is a 503, and its connections are not kept', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('CREATE TABLE IF NOT EXISTS written (n integer)');
    // What a failover does to the connections of the old primary: the node they reach refuses writes.
    await admin.query('ALTER DATABASE database_test SET default_transaction_read_only = on');
    const db = database();
    try {
      const readOnly = (error: unknown) =>
        error instanceof DependencyUnavailableError &&
        error.dependency === 'database' &&
        !error.outcomeUnknown &&
        (error.cause as { code?: string }).code === '25006';
      await assert.rejects(db.query('INSERT INTO written VALUES (1)'), readOnly);
      await assert.rejects(
        db.transaction((tx) => tx.query('INSERT INTO written VALUES (2)')),
        readOnly,
      );
      assert.equal(db.stats().total, 0, 'no connection to the read-only node kept');
      // The address now leads to a node that takes writes: the pool finds it without a restart.
      await admin.query('ALTER DATABASE database_test SET default_transaction_read_only = off');
      await db.query('INSERT INTO written VALUES (3)');
      assert.deepEqual((await admin.query('SELECT n FROM written')).rows, [{ n: 3 }]);
    } finally {
      await admin.query('ALTER DATABASE database_test RESET default_transaction_read_only');
      await admin.end();
      await db.close();
    }
  });

  test('a statement past its timeout is a 503 (database timeout)', async () => {
    const db = database();
    try {
      await assert.rejects(
        db.query('SELECT pg_sleep(2)'),
        (error) => error instanceof DependencyUnavailableError && error.reason === 'timeout',
      );
    } finally {
      await db.close();
    }
  });

  test('past the pool and its queue, a request is refused at once instead of waiting, and counted', async () => {
    const metrics = new PlatformMetrics('test');
    const db = database({ poolMax: 1, queueMax: 0, statementTimeoutMs: 2000, metrics });
    try {
      const busy = db.query('SELECT pg_sleep(0.5)');
      const started = performance.now();
      await assert.rejects(
        db.query('SELECT 1'),
        (error) => error instanceof DependencyUnavailableError && error.reason === 'saturated',
      );
      assert.ok(performance.now() - started < 400);
      await busy;
      await assert.rejects(db.query('SELECT no_such_column FROM pg_class'));
      assert.equal(await metrics.valueOf('db_pool_rejected_total'), 1);
      const calls = (outcome: string) =>
        metrics.valueOf('dependency_calls_total', { dependency: 'database', outcome });
      assert.equal(await calls('rejected_bulkhead'), 1);
      assert.equal(await calls('success'), 2, 'an SQL error is an answer of a working database');
    } finally {
      await db.close();
    }
  });

  test('a SQL error is not a 503: it is a bug, left for the 500 handler', async () => {
    const db = database();
    try {
      await assert.rejects(
        db.query('SELECT no_such_column FROM pg_class'),
        (error) => !(error instanceof DependencyUnavailableError),
      );
    } finally {
      await db.close();
    }
  });
});
