import { fileURLToPath } from 'node:url';
import { Services } from '../contract/services.ts';
import { migrationStatus } from '../platform/database/migrations.ts';
import { RATE_LIMIT_MIGRATIONS } from '../platform/http/PostgresRateLimitStore.ts';
import { databaseCheck, pathsCheck } from '../platform/preflight/preflight.ts';
import { bootService, type ServiceSpec } from '../platform/process/bootService.ts';
import { buildCheckoutApp } from './app.ts';
import {
  CheckoutSettings,
  checkoutBudgetMs,
  paymentApiBase,
  paymentSettingsProblems,
  REQUIRED_IN_PRODUCTION,
} from './config.ts';

/** The checkout's migrations, and those of the platform pieces it uses. */
export const CHECKOUT_MIGRATIONS = [
  fileURLToPath(new URL('./migrations', import.meta.url)),
  RATE_LIMIT_MIGRATIONS,
];

export const checkoutService: ServiceSpec<typeof CheckoutSettings> = {
  service: Services.checkout,
  schema: CheckoutSettings,
  requiredInProduction: REQUIRED_IN_PRODUCTION,
  // The card a user pays with: in the request's body, never in a line.
  redactPaths: ['paymentToken', '*.paymentToken'],
  preflight: (config) => [
    async () => paymentSettingsProblems(config, config.NODE_ENV === 'production'),
    databaseCheck(config.DATABASE_URL, CHECKOUT_MIGRATIONS, config.DB_CONNECT_TIMEOUT_MS),
    pathsCheck({ LOG_FILE: config.LOG_FILE ? { path: config.LOG_FILE, kind: 'file-to-write' } : undefined }),
  ],
  build: async (config, context) => ({
    ...(await buildCheckoutApp(config, context)),
    startedFields: {
      schemaVersion: (await migrationStatus(config.DATABASE_URL, CHECKOUT_MIGRATIONS)).version,
      paymentApiUrl: paymentApiBase(config),
      inventoryApiUrl: config.INVENTORY_API_URL,
      // What a load balancer's timeout must stay above (triage compares HAProxy's with it).
      checkoutBudgetMs: checkoutBudgetMs(config),
    },
  }),
};

// Run as a program (by `steadfast start`), not imported.
if (import.meta.filename === process.argv[1]) await bootService(checkoutService);
