import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { secretSettings } from '../platform/config/configHash.ts';
import { loadConfig } from '../platform/config/loadConfig.ts';
import {
  CheckoutSettings,
  checkoutAdmissionRange,
  checkoutBudgetMs,
  checkoutCapacity,
  paymentApiBase,
  paymentSettingsProblems,
  STRIPE_API,
} from './config.ts';

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

test('admission range: down to a quarter of the capacity, or as set, never above it', () => {
  assert.deepEqual(checkoutAdmissionRange(settings()), { minLimit: 9, maxLimit: 38 });
  assert.deepEqual(checkoutAdmissionRange(settings({ CHECKOUT_MIN_CONCURRENT: '30' })), {
    minLimit: 30,
    maxLimit: 38,
  });
  assert.deepEqual(
    checkoutAdmissionRange(settings({ CHECKOUT_MAX_CONCURRENT: '7', CHECKOUT_MIN_CONCURRENT: '10' })),
    { minLimit: 7, maxLimit: 7 },
    'a least above the most: a static cap',
  );
  assert.deepEqual(checkoutAdmissionRange(settings({ CHECKOUT_MAX_CONCURRENT: '2' })), {
    minLimit: 1,
    maxLimit: 2,
  });
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
  for (const name of ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'JWT_SECRET'])
    assert.ok(secrets.includes(name), name);
  assert.ok(!secrets.includes('STRIPE_API_BASE'));
});

describe('payment settings', () => {
  test('the sandbox by default, at its development address; Stripe at its own', () => {
    assert.equal(paymentApiBase(settings({})), 'http://127.0.0.1:3002');
    const stripe = settings({
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
    });
    assert.equal(paymentApiBase(stripe), STRIPE_API);
    assert.deepEqual(paymentSettingsProblems(stripe, true), []);
    assert.equal(paymentApiBase(settings({ STRIPE_API_BASE: 'http://127.0.0.1:9' })), 'http://127.0.0.1:9');
  });

  test('a malformed provider, key, base or webhook secret is refused, every one at once, never echoed', () => {
    const result = loadConfig(CheckoutSettings, {
      PAYMENT_PROVIDER: 'paypal',
      STRIPE_SECRET_KEY: 'pk_test_publishable_not_secret',
      STRIPE_API_BASE: 'https://api.stripe.com/v1',
      STRIPE_WEBHOOK_SECRET: 'not-a-whsec',
    });
    assert.equal(result.ok, false);
    const problems = result.ok ? [] : result.problems;
    for (const name of ['PAYMENT_PROVIDER', 'STRIPE_SECRET_KEY', 'STRIPE_API_BASE', 'STRIPE_WEBHOOK_SECRET'])
      assert.ok(
        problems.some((p) => p.startsWith(`Environment variable '${name}' is not valid`)),
        `${name}: ${problems.join('\n')}`,
      );
    assert.doesNotMatch(problems.join('\n'), /pk_test_publishable|not-a-whsec|paypal/);
  });

  test('Stripe gets a key of its own over TLS; production names the sandbox it uses', () => {
    const overHttp = settings({
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_API_BASE: 'http://api.stripe.com',
      STRIPE_SECRET_KEY: 'sk_live_0123456789abcdef',
    });
    assert.match(paymentSettingsProblems(overHttp, false).join('\n'), /'STRIPE_API_BASE' .* https origin/);
    const defaultKey = settings({ PAYMENT_PROVIDER: 'stripe' });
    assert.match(
      paymentSettingsProblems(defaultKey, false).join('\n'),
      /'STRIPE_SECRET_KEY' .* your Stripe account/,
    );
    assert.match(paymentSettingsProblems(settings({}), true).join('\n'), /'STRIPE_API_BASE' is not set/);
    assert.deepEqual(paymentSettingsProblems(settings({}), false), []);
  });
});
