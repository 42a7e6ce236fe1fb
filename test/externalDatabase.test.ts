import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestPostgres, type TestPostgres } from './support/postgres.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// PostgreSQL is embedded by default; any server will do through DATABASE_URL.
describe('steadfast start on the PostgreSQL server of DATABASE_URL', () => {
  let postgres: TestPostgres;
  let stack: TestStack;

  before(async () => {
    postgres = await startTestPostgres();
    stack = await startTestStack({ DATABASE_URL: postgres.url('postgres') });
  });
  after(async () => {
    await stack?.stop();
    await postgres?.stop();
  });

  test('no embedded server is started; the stack runs on the given one', async () => {
    assert.equal(stack.info.pids.postgres, undefined);
    assert.equal(new URL(stack.info.databaseUrl).port, new URL(postgres.url('postgres')).port);
    const { cartId, token } = await stack.cart('usr_external');
    const response = await stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'pm_card_visa' },
    });
    assert.equal(response.status, 201, response.text);
  });
});
