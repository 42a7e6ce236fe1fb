import { Writable } from 'node:stream';
import pino from 'pino';
import { Database } from '../../src/platform/database/Database.ts';
import { migrate } from '../../src/platform/database/migrations.ts';
import { createHttpServer } from '../../src/platform/http/createHttpServer.ts';
import { PlatformMetrics } from '../../src/platform/metrics/PlatformMetrics.ts';
import { FaultSwitch } from '../../src/sandbox/faultSwitch.ts';
import {
  parseStripeParams,
  registerPaymentRoutes,
  renderStripeError,
} from '../../src/sandbox/payment/app.ts';
import { PAYMENT_MIGRATIONS } from '../../src/sandbox/payment/main.ts';
import { PaymentStore } from '../../src/sandbox/payment/PaymentStore.ts';
import { WebhookSender } from '../../src/sandbox/payment/WebhookSender.ts';
import { startTestPostgres, type TestPostgres } from './postgres.ts';

export interface RunningPaymentSandbox {
  /** The sandbox's origin, e.g. `http://127.0.0.1:41234`. */
  url: string;
  apiKey: string;
  faults: FaultSwitch;
  /** The sandbox's own database, for what a test must see or age (an idempotency key past 24 h). */
  db: Database;
  close: () => Promise<void>;
}

/**
 * The real payment sandbox (its routes, its store, its migrations, its fault switch) on a free port of
 * 127.0.0.1, over a PostgreSQL of the test file's own: what the adapter's tests speak to over real HTTP.
 * With `webhook`, it sends its events there, signed with that secret.
 */
export async function startPaymentSandbox(
  apiKey = 'sk_test_payment_sandbox_key',
  webhook?: { url: string; secret: string },
): Promise<RunningPaymentSandbox> {
  const postgres: TestPostgres = await startTestPostgres();
  const url = await postgres.createDatabase('payment_sandbox');
  await migrate(url, PAYMENT_MIGRATIONS);
  const db = new Database({
    url,
    applicationName: 'payment-sandbox-test',
    poolMax: 10,
    queueMax: 100,
    connectTimeoutMs: 3000,
    statementTimeoutMs: 5000,
    idleInTransactionTimeoutMs: 10000,
  });
  const logger = pino(new Writable({ write: (_chunk, _encoding, done) => done() }));
  const app = createHttpServer({
    logger,
    metrics: new PlatformMetrics('payment-sandbox-test'),
    bodyLimit: 65536,
    renderError: renderStripeError,
    querystringParser: parseStripeParams,
  });
  const faults = new FaultSwitch();
  const webhooks = webhook
    ? new WebhookSender({ db, ...webhook, logger, held: () => faults.holdsWebhooks(), pollMs: 100 })
    : undefined;
  registerPaymentRoutes(app, new PaymentStore(db, { recordsEvents: webhook !== undefined }), faults, {
    apiKey,
    production: false,
    onEventsRecorded: () => webhooks?.nudge(),
  });
  webhooks?.start();
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: address,
    apiKey,
    faults,
    db,
    close: async () => {
      await webhooks?.stop();
      await app.close();
      await db.close();
      await postgres.stop();
    },
  };
}
