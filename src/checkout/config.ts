import Type, { type Static } from 'typebox';
import {
  databaseSettings,
  healthSettings,
  httpSettings,
  loadSheddingSettings,
  logSettings,
  metricsSettings,
  ms,
  tracingSettings,
} from '../platform/config/settings.ts';
import { dashboardSettings } from '../platform/dashboard/dashboardSettings.ts';

/** Stripe's API, where PAYMENT_PROVIDER=stripe sends its calls unless STRIPE_API_BASE says otherwise. */
export const STRIPE_API = 'https://api.stripe.com';
/** The payment sandbox of `steadfast start`, where PAYMENT_PROVIDER=sandbox sends them in development. */
const SANDBOX_API = 'http://127.0.0.1:3002';
/** The payment sandbox's development key: good for nothing else. */
const SANDBOX_KEY = 'sk_test_steadfast_sandbox';

const count = (defaultCount: number) => Type.Integer({ minimum: 1, default: defaultCount });

/** Every setting of the checkout service; docs/configuration.md lists them with their defaults. */
export const CheckoutSettings = Type.Object({
  ...httpSettings,
  ...logSettings,
  ...metricsSettings,
  ...tracingSettings,
  ...databaseSettings,
  ...healthSettings,
  ...loadSheddingSettings,
  ...dashboardSettings,
  // Development defaults point at the local payment sandbox; production must name the real thing.
  PAYMENT_PROVIDER: Type.Union([Type.Literal('sandbox'), Type.Literal('stripe')], { default: 'sandbox' }),
  STRIPE_API_BASE: Type.Optional(
    Type.String({
      pattern: '^https?://[^/?#]+$',
      description: `an http(s) origin with no path: the payment sandbox's, or Stripe's own (${STRIPE_API}, the default with PAYMENT_PROVIDER=stripe)`,
    }),
  ),
  STRIPE_SECRET_KEY: Type.String({
    pattern: '^(sk|rk)_(test|live)_[A-Za-z0-9_-]{8,}$',
    default: SANDBOX_KEY,
    description: 'a Stripe secret or restricted key: sk_test_..., sk_live_..., rk_test_... or rk_live_...',
  }),
  STRIPE_WEBHOOK_SECRET: Type.Optional(
    Type.String({
      pattern: '^whsec_[A-Za-z0-9_-]{8,}$',
      description: "a webhook endpoint's signing secret: whsec_...",
    }),
  ),
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
  CHECKOUT_MIN_CONCURRENT: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        'a whole number: the fewest checkouts the adaptive admission limit lets in at once (by default a quarter of CHECKOUT_MAX_CONCURRENT); equal to it, the limit is static',
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
 * The range the checkout's adaptive admission limit moves in (see VegasLimit): up to the capacity,
 * down to a quarter of it unless set. Never below 1 nor above the capacity.
 */
export function checkoutAdmissionRange(config: Static<typeof CheckoutSettings>): {
  minLimit: number;
  maxLimit: number;
} {
  const maxLimit = checkoutCapacity(config);
  const minLimit = Math.min(
    maxLimit,
    config.CHECKOUT_MIN_CONCURRENT ?? Math.max(1, Math.floor(maxLimit / 4)),
  );
  return { minLimit, maxLimit };
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
  'STRIPE_SECRET_KEY',
  'INVENTORY_API_URL',
  'JWT_SECRET',
] as const;

/** Where the payment calls go: STRIPE_API_BASE, or the provider's own origin. */
export function paymentApiBase(config: Static<typeof CheckoutSettings>): string {
  return config.STRIPE_API_BASE ?? (config.PAYMENT_PROVIDER === 'stripe' ? STRIPE_API : SANDBOX_API);
}

/**
 * What the payment settings must agree on, checked at startup beside every other setting: a Stripe key
 * travels only over TLS and is never the development default, and in production the sandbox's address
 * is named, never assumed.
 */
export function paymentSettingsProblems(
  config: Static<typeof CheckoutSettings>,
  production: boolean,
): string[] {
  const problems: string[] = [];
  if (config.PAYMENT_PROVIDER === 'stripe') {
    if (!paymentApiBase(config).startsWith('https://'))
      problems.push(
        "Environment variable 'STRIPE_API_BASE' is not valid: with PAYMENT_PROVIDER=stripe it must be an https origin.",
      );
    if (config.STRIPE_SECRET_KEY === SANDBOX_KEY)
      problems.push(
        "Environment variable 'STRIPE_SECRET_KEY' is not valid: with PAYMENT_PROVIDER=stripe it must be a key of your Stripe account.",
      );
  } else if (production && config.STRIPE_API_BASE === undefined) {
    problems.push(
      "Required environment variable 'STRIPE_API_BASE' is not set (PAYMENT_PROVIDER=sandbox in production).",
    );
  }
  return problems;
}
