import Type, { type Static } from 'typebox';
import {
  databaseSettings,
  healthSettings,
  httpSettings,
  loadSheddingSettings,
  logSettings,
  metricsSettings,
  ms,
} from '../platform/config/settings.ts';
import { dashboardSettings } from '../platform/dashboard/dashboardSettings.ts';

const count = (defaultCount: number) => Type.Integer({ minimum: 1, default: defaultCount });

/** Every setting of the checkout service; docs/configuration.md lists them with their defaults. */
export const CheckoutSettings = Type.Object({
  ...httpSettings,
  ...logSettings,
  ...metricsSettings,
  ...databaseSettings,
  ...healthSettings,
  ...loadSheddingSettings,
  ...dashboardSettings,
  // Development defaults point at the local sandbox; production must name the real thing.
  PAYMENT_API_URL: Type.String({
    pattern: '^https?://',
    default: 'http://127.0.0.1:3002',
    description: 'an http(s) URL',
  }),
  PAYMENT_API_KEY: Type.String({ minLength: 8, default: 'sk_test_steadfast_sandbox' }),
  INVENTORY_API_URL: Type.String({
    pattern: '^https?://',
    default: 'http://127.0.0.1:3001',
    description: 'an http(s) URL',
  }),
  JWT_SECRET: Type.String({
    minLength: 32,
    default: 'steadfast-development-secret-do-not-use-in-production',
  }),
  JWT_MAX_TTL_SECONDS: Type.Integer({
    minimum: 1,
    default: 30 * 24 * 3600,
    description: 'a whole number of seconds: the longest a bearer token may live (exp - iat, and exp - now)',
  }),
  PAYMENT_TIMEOUT_MS: ms(3000, 'the budget of one payment gateway call, connect to last byte'),
  PAYMENT_BREAKER_THRESHOLD: count(5),
  PAYMENT_BREAKER_HALF_OPEN_MS: ms(30000, 'how long the payment breaker stays open before a probe'),
  PAYMENT_MAX_CONCURRENT: count(20),
  PAYMENT_MAX_QUEUE: Type.Integer({ minimum: 0, default: 20 }),
  INVENTORY_TIMEOUT_MS: ms(1000, 'the budget of one inventory call, connect to last byte'),
  INVENTORY_BREAKER_THRESHOLD: count(3),
  INVENTORY_BREAKER_HALF_OPEN_MS: ms(15000, 'how long the inventory breaker stays open before a probe'),
  INVENTORY_MAX_CONCURRENT: count(20),
  INVENTORY_MAX_QUEUE: Type.Integer({ minimum: 0, default: 20 }),
  RESERVATION_TTL_SECONDS: count(900),
  CHECKOUT_ATTEMPT_LEASE_MS: ms(
    30000,
    "how long a checkout attempt is its worker's before recovery may take it",
  ),
  RECOVERY_INTERVAL_MS: ms(5000, 'how often the recovery worker runs a round'),
  LATE_CHARGE_RECHECK_MS: ms(600000, 'when to look again for a charge that landed after its attempt failed'),
  IDEMPOTENCY_KEY_RETENTION_HOURS: count(24),
  CHECKOUT_RATE_LIMIT_PER_MINUTE: count(20),
  CHECKOUT_MAX_CONCURRENT: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        'a whole number: checkouts one instance carries at once (by default what its payment, inventory and database bulkheads can all take)',
    }),
  ),
});

/**
 * Calls the instance's own background work may hold on each bulkhead at once, one each: the recovery
 * worker on all three; the stock committer (one batch at a time) on inventory and the database; the
 * unsettled-attempts gauge and the rate limit's purge on the database.
 */
const BACKGROUND_CALLS = { payment: 1, inventory: 2, database: 4 };

/**
 * Checkouts admitted at once. A checkout holds at most one payment call, one inventory call and one
 * database connection at a time, so this many admitted, beside the background work, never meet a full
 * bulkhead half-way.
 */
export function checkoutCapacity(config: Static<typeof CheckoutSettings>): number {
  return (
    config.CHECKOUT_MAX_CONCURRENT ??
    Math.max(
      1,
      Math.min(
        config.PAYMENT_MAX_CONCURRENT + config.PAYMENT_MAX_QUEUE - BACKGROUND_CALLS.payment,
        config.INVENTORY_MAX_CONCURRENT + config.INVENTORY_MAX_QUEUE - BACKGROUND_CALLS.inventory,
        config.DB_POOL_MAX + config.DB_POOL_QUEUE_MAX - BACKGROUND_CALLS.database,
      ),
    )
  );
}

/**
 * The longest an instance takes to answer a checkout once its request has arrived, when every call on
 * its path takes its whole bound: the two writes (the attempt, then the order: docs/architecture.md
 * section 5), the reserve and the charge. There is no deadline over the whole request, only these, so a
 * load balancer that gives up sooner answers 504 for a checkout the instance may still complete.
 */
export function checkoutBudgetMs(config: Static<typeof CheckoutSettings>): number {
  return config.INVENTORY_TIMEOUT_MS + config.PAYMENT_TIMEOUT_MS + 2 * config.DB_STATEMENT_TIMEOUT_MS;
}

export const REQUIRED_IN_PRODUCTION = [
  'DATABASE_URL',
  'PAYMENT_API_URL',
  'PAYMENT_API_KEY',
  'INVENTORY_API_URL',
  'JWT_SECRET',
] as const;
