import { getHeapStatistics } from 'node:v8';
import type { Static } from 'typebox';
import { Metrics } from '../contract/metrics.ts';
import { registerDashboard } from '../platform/dashboard/dashboardRoutes.ts';
import { peerUrls } from '../platform/dashboard/dashboardSettings.ts';
import { RecentErrors } from '../platform/dashboard/RecentErrors.ts';
import { databaseFromSettings } from '../platform/database/Database.ts';
import { registerHealthRoutes } from '../platform/health/healthRoutes.ts';
import { registerApiDocument, registerApiReference } from '../platform/http/apiDocument.ts';
import { createHttpServer } from '../platform/http/createHttpServer.ts';
import { admissionLimit, registerLoadShedding } from '../platform/http/loadShedding.ts';
import { VegasLimit } from '../platform/http/VegasLimit.ts';
import type { ServiceContext } from '../platform/process/bootService.ts';
import { buildInfo } from '../platform/process/buildInfo.ts';
import { bearerAuth } from './auth.ts';
import { CartStore } from './carts/CartStore.ts';
import { registerCartRoutes } from './carts/cartRoutes.ts';
import { CheckoutMetrics } from './checkoutMetrics.ts';
import { type CheckoutSettings, checkoutAdmissionRange, checkoutBudgetMs } from './config.ts';
import { AttemptStore } from './flow/AttemptStore.ts';
import { CheckoutService } from './flow/CheckoutService.ts';
import { registerCheckoutRoutes } from './flow/checkoutRoutes.ts';
import { IdempotencyKeyStore } from './flow/IdempotencyKeyStore.ts';
import { RecoveryWorker } from './flow/RecoveryWorker.ts';
import { StockCommitter } from './flow/StockCommitter.ts';
import { createGateways } from './gateways/createGateways.ts';
import { OrderStore } from './orders/OrderStore.ts';
import { registerOrderRoutes } from './orders/orderRoutes.ts';
import { registerStripeWebhookRoutes } from './webhooks/stripeWebhookRoutes.ts';
import { WebhookEventStore } from './webhooks/WebhookEventStore.ts';

/** Wires the checkout service: one database pool, one guarded client per dependency, the routes. */
export async function buildCheckoutApp(
  config: Static<typeof CheckoutSettings>,
  { logger, state, metrics, management }: ServiceContext,
) {
  const db = databaseFromSettings(config, 'checkout', metrics);
  const gateways = createGateways(config, logger, metrics);
  const { inventoryHttp, paymentHttp, inventory, payment } = gateways;
  metrics.watchPool(db);
  metrics.watchBreaker(paymentHttp);
  metrics.watchBreaker(inventoryHttp);
  const carts = new CartStore(db);
  const attempts = new AttemptStore(db, config.CHECKOUT_ATTEMPT_LEASE_MS);
  const keys = new IdempotencyKeyStore(db);
  const checkoutMetrics = new CheckoutMetrics(metrics.registry, () => attempts.countUnsettled());
  const stock = new StockCommitter({ inventory, attempts, logger: logger.child({ component: 'stock' }) });
  const service = new CheckoutService({
    db,
    attempts,
    keys,
    stock,
    inventory,
    payment,
    reservationTtlSeconds: config.RESERVATION_TTL_SECONDS,
    lateChargeRecheckMs: config.LATE_CHARGE_RECHECK_MS,
    attemptLeaseMs: config.CHECKOUT_ATTEMPT_LEASE_MS,
    requestBudgetMs: checkoutBudgetMs(config),
  });

  const recentErrors = new RecentErrors();
  // Where clients reach it; with a port picked at start, the host that served the document ('/').
  const serverUrl = config.PUBLIC_URL ?? (config.PORT ? `http://${config.HOST}:${config.PORT}` : '/');
  const app = createHttpServer({
    logger,
    metrics,
    metricsRoute: !management,
    onServerError: (note) => recentErrors.add(note),
    bodyLimit: config.BODY_LIMIT_BYTES,
    headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS,
    isDraining: () => state.draining,
  });
  await registerLoadShedding(app, {
    maxConcurrent: config.MAX_CONCURRENT_REQUESTS,
    maxEventLoopDelayMs: config.SHED_EVENT_LOOP_DELAY_MS,
    maxEventLoopUtilization: config.SHED_EVENT_LOOP_UTILIZATION,
    maxHeapUsedBytes: Math.round((getHeapStatistics().heap_size_limit * config.SHED_HEAP_USED_PCT) / 100),
    sampleIntervalMs: config.SHED_SAMPLE_INTERVAL_MS,
    onShed: (reason) => metrics.recordShed(reason),
  });
  await registerApiDocument(app, {
    title: 'Steadfast checkout',
    version: buildInfo().version,
    description:
      'Carts, an exactly-once checkout and orders. Every error is problem+json (RFC 9457) with a stable `error` code; ' +
      'a 503 says when to retry (`Retry-After`), a 500 carries an `errorId`. Authenticate with a bearer JWT.',
    serverUrl,
    tags: [
      { name: 'carts', description: "A user's carts and their items" },
      { name: 'checkout', description: 'Paying for a cart, exactly once' },
      { name: 'orders', description: 'Confirmed orders' },
      { name: 'webhooks', description: "The payment provider's signed events" },
    ],
  });
  // The operator's surfaces: on the management listener when there is one, else beside the API.
  const operations = management ?? app;
  registerDashboard(operations, {
    title: 'Steadfast checkout',
    metrics,
    recentErrors,
    tiles: [
      { id: 'unsettled', label: 'unsettled attempts', metric: Metrics.attemptsUnsettled.name, badAbove: 0 },
    ],
    verdict: {
      // Its own /health in process: the readiness the load balancer sees, without a connection.
      health: async () => {
        const answer = await app.inject({ method: 'GET', url: '/health' });
        return { status: answer.statusCode, body: answer.json() };
      },
      logFile: config.LOG_FILE,
      peers: peerUrls(config.DASHBOARD_PEER_URLS),
    },
  });
  registerHealthRoutes([app, management], {
    databaseUrl: config.DATABASE_URL,
    dependencies: [paymentHttp, inventoryHttp],
    settings: config,
    isDraining: () => state.draining,
  });
  const authenticate = bearerAuth(config.JWT_SECRET, { maxTtlSeconds: config.JWT_MAX_TTL_SECONDS });
  registerCartRoutes(app, carts, authenticate);
  const orders = new OrderStore(db);
  registerOrderRoutes(app, orders, authenticate);
  const webhookEvents = new WebhookEventStore(db);
  // Without a signing secret no event could be believed: no endpoint.
  if (config.STRIPE_WEBHOOK_SECRET)
    await registerStripeWebhookRoutes(app, {
      secret: config.STRIPE_WEBHOOK_SECRET,
      service,
      events: webhookEvents,
      orderOfCharge: (chargeId) => orders.byCharge(chargeId),
      metrics: checkoutMetrics,
    });
  // Checkouts let in at once: what the bulkheads can take, fewer while the latency says they only wait.
  // It learns from checkouts done, never from a replay or a refusal any client can ask for at will.
  const checkoutAdmission = admissionLimit(
    new VegasLimit(checkoutAdmissionRange(config)),
    (reason) => metrics.recordShed(reason),
    (reply) => reply.statusCode === 201 && !reply.hasHeader('idempotent-replayed'),
  );
  metrics.watchAdmission('/api/checkout/complete', checkoutAdmission);
  await registerCheckoutRoutes(app, {
    service,
    db,
    keys,
    authenticate,
    metrics: checkoutMetrics,
    ratePerMinute: config.CHECKOUT_RATE_LIMIT_PER_MINUTE,
    admit: checkoutAdmission.hook,
  });

  const recovery = new RecoveryWorker({
    service,
    attempts,
    keys,
    webhookEvents,
    metrics: checkoutMetrics,
    logger: logger.child({ component: 'recovery' }),
    intervalMs: config.RECOVERY_INTERVAL_MS,
    keyRetentionHours: config.IDEMPOTENCY_KEY_RETENTION_HOURS,
  });
  // Last: on a management listener of its own, the reference shows the document of every route above.
  await registerApiReference(operations, app, {
    connectTo: serverUrl.startsWith('http') ? [new URL(serverUrl).origin] : [],
  });
  recovery.start();

  return {
    app,
    admissionLimit: () => checkoutAdmission.limit,
    closeResources: async () => {
      await recovery.stop();
      await stock.flush();
      await gateways.close();
      await db.close();
    },
  };
}
