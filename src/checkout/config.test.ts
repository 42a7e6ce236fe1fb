import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secretSettings } from '../platform/config/configHash.ts';
import { loadConfig } from '../platform/config/loadConfig.ts';
import { CheckoutSettings, checkoutBudgetMs, checkoutCapacity } from './config.ts';

const settings = (env: Record<string, string> = {}) => {
  const result = loadConfig(CheckoutSettings, { DATABASE_URL: 'postgres://localhost/checkout', ...env });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.config;
};

test('capacity: what every bulkhead can take less the background work, by the tightest of them', () => {
  const sized = (payment: number, inventory: number, database: number) =>
    checkoutCapacity(
      settings({
        PAYMENT_MAX_CONCURRENT: String(payment),
        PAYMENT_MAX_QUEUE: String(payment),
        INVENTORY_MAX_CONCURRENT: String(inventory),
        INVENTORY_MAX_QUEUE: String(inventory),
        DB_POOL_MAX: String(database),
        DB_POOL_QUEUE_MAX: String(database),
      }),
    );
  // Background work holds 1 payment call, 2 inventory calls and 4 database connections at most.
  assert.equal(sized(5, 10, 10), 9, 'payment the tightest: 5 + 5 - 1');
  assert.equal(sized(10, 5, 10), 8, 'inventory the tightest: 5 + 5 - 2');
  assert.equal(sized(10, 10, 5), 6, 'database the tightest: 5 + 5 - 4');
  assert.equal(
    checkoutCapacity(settings()),
    38,
    'the defaults: inventory the tightest, 20 + 20 - 2, as docs/configuration.md says',
  );
});

test('capacity: never below one, and a configured cap wins', () => {
  assert.equal(checkoutCapacity(settings({ PAYMENT_MAX_CONCURRENT: '1', PAYMENT_MAX_QUEUE: '0' })), 1);
  assert.equal(checkoutCapacity(settings({ CHECKOUT_MAX_CONCURRENT: '7' })), 7);
});

test('budget: each call on the checkout path at its own bound, the two writes each a statement', () => {
  assert.equal(checkoutBudgetMs(settings()), 1000 + 3000 + 2 * 5000, 'the defaults: 14 s');
  assert.equal(
    checkoutBudgetMs(settings({ DB_STATEMENT_TIMEOUT_MS: '7000', PAYMENT_TIMEOUT_MS: '4000' })),
    1000 + 4000 + 2 * 7000,
  );
});

test('secrets: every key and secret of the checkout is named like one, so its logs censor it', () => {
  const secrets = secretSettings(Object.keys(CheckoutSettings.properties));
  for (const name of ['PAYMENT_API_KEY', 'JWT_SECRET']) assert.ok(secrets.includes(name), name);
  assert.ok(!secrets.includes('PAYMENT_API_URL'));
});
