import { fileURLToPath } from 'node:url';
import { Services } from '../../contract/services.ts';
import { databaseFromSettings } from '../../platform/database/Database.ts';
import { registerHealthRoutes } from '../../platform/health/healthRoutes.ts';
import { createHttpServer } from '../../platform/http/createHttpServer.ts';
import { databaseCheck } from '../../platform/preflight/preflight.ts';
import { bootService, type ServiceSpec } from '../../platform/process/bootService.ts';
import { FaultSwitch } from '../faultSwitch.ts';
import { parseStripeParams, registerPaymentRoutes, renderStripeError } from './app.ts';
import { PaymentSettings, webhookSettingsProblems } from './config.ts';
import { PaymentStore } from './PaymentStore.ts';
import { WebhookSender } from './WebhookSender.ts';

export const PAYMENT_MIGRATIONS = [fileURLToPath(new URL('./migrations', import.meta.url))];

export const paymentSandbox: ServiceSpec<typeof PaymentSettings> = {
  service: Services.payment,
  schema: PaymentSettings,
  preflight: (config) => [
    async () => webhookSettingsProblems(config),
    databaseCheck(config.DATABASE_URL, PAYMENT_MIGRATIONS, config.DB_CONNECT_TIMEOUT_MS),
  ],
  build: async (config, { logger, state, metrics, management }) => {
    const db = databaseFromSettings(config, Services.payment, metrics);
    metrics.watchPool(db);
    const app = createHttpServer({
      logger,
      metrics,
      // With a management listener, that one serves /metrics.
      metricsRoute: !management,
      bodyLimit: config.BODY_LIMIT_BYTES,
      headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
      isDraining: () => state.draining,
      renderError: renderStripeError,
      querystringParser: parseStripeParams,
    });
    registerHealthRoutes([app, management], {
      databaseUrl: config.DATABASE_URL,
      dependencies: [],
      settings: config,
      isDraining: () => state.draining,
    });
    const faults = new FaultSwitch();
    const webhooks =
      config.WEBHOOK_URL && config.WEBHOOK_SECRET
        ? new WebhookSender({
            db,
            url: config.WEBHOOK_URL,
            secret: config.WEBHOOK_SECRET,
            logger: logger.child({ component: 'webhooks' }),
            held: () => faults.holdsWebhooks(),
          })
        : undefined;
    registerPaymentRoutes(app, new PaymentStore(db, { recordsEvents: webhooks !== undefined }), faults, {
      apiKey: config.PAYMENT_API_KEY,
      production: config.NODE_ENV === 'production',
      onEventsRecorded: () => webhooks?.nudge(),
    });
    webhooks?.start();
    return {
      app,
      closeResources: async () => {
        await webhooks?.stop();
        await db.close();
      },
    };
  },
};

// Run as a program (by `steadfast start`), not imported.
if (import.meta.filename === process.argv[1]) await bootService(paymentSandbox);
