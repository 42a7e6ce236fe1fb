import { fileURLToPath } from 'node:url';
import { migrationStatus } from '../platform/database/migrations.ts';
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

export const CHECKOUT_MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));

export const checkoutService: ServiceSpec<typeof CheckoutSettings> = {
  service: 'checkout',
  schema: CheckoutSettings,
  requiredInProduction: REQUIRED_IN_PRODUCTION,
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
