import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Database, Queryable } from '../../platform/database/Database.ts';
import { ChargeStore } from './ChargeStore.ts';

/** A database that records every statement and stores nothing: what a refusal must leave untouched. */
function recordingDatabase() {
  const statements: string[] = [];
  const tx = {
    query: async (text: string) => {
      statements.push(text.trim().split(/\s+/).slice(0, 3).join(' '));
      return { rows: [], rowCount: 1 };
    },
  } as unknown as Queryable;
  const db = {
    transaction: async <T>(work: (q: Queryable) => Promise<T>) => work(tx),
    query: tx.query,
  } as unknown as Database;
  return { db, statements };
}

test('a source named like what every object inherits is an unknown token, not a charge with no status', async () => {
  for (const source of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    const { db, statements } = recordingDatabase();
    const answer = await new ChargeStore(db).charge({ amount: 100, currency: 'usd', source }, undefined);
    assert.equal(answer.statusCode, 400, source);
    const error = (answer.body as { error: { type: string; code: string; param: string } }).error;
    assert.deepEqual(
      { type: error.type, code: error.code, param: error.param },
      { type: 'invalid_request_error', code: 'resource_missing', param: 'source' },
      source,
    );
    assert.deepEqual(statements, [], `${source}: no statement`);
  }
});

test('a test token still charges', async () => {
  const { db, statements } = recordingDatabase();
  await new ChargeStore(db)
    .charge({ amount: 100, currency: 'usd', source: 'tok_visa' }, undefined)
    .catch(() => undefined);
  assert.deepEqual(statements, ['INSERT INTO charges']);
});
