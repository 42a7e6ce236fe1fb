import type { Logger } from 'pino';
import type { Static } from 'typebox';
import { Dependencies } from '../../contract/services.ts';
import { HttpDependency } from '../../platform/dependency/HttpDependency.ts';
import type { CallRecorder } from '../../platform/metrics/PlatformMetrics.ts';
import { type CheckoutSettings, paymentApiBase } from '../config.ts';
import { InventoryClient } from './InventoryClient.ts';
import { StripeGateway } from './stripe/StripeGateway.ts';

/** The checkout's two dependencies, each behind its own breaker, timeout and bulkhead (section 6). */
export function createGateways(
  config: Static<typeof CheckoutSettings>,
  logger: Logger,
  metrics?: CallRecorder,
) {
  const inventoryHttp = new HttpDependency({
    name: Dependencies.inventory,
    baseUrl: config.INVENTORY_API_URL,
    timeoutMs: config.INVENTORY_TIMEOUT_MS,
    breakerThreshold: config.INVENTORY_BREAKER_THRESHOLD,
    halfOpenAfterMs: config.INVENTORY_BREAKER_HALF_OPEN_MS,
    maxConcurrent: config.INVENTORY_MAX_CONCURRENT,
    maxQueue: config.INVENTORY_MAX_QUEUE,
    // A 429 is the service shedding load: unavailable for now, as a 5xx is, not a request of ours it refused.
    overloadStatuses: [429],
    logger,
    metrics,
  });
  const paymentHttp = new HttpDependency({
    name: Dependencies.payment,
    baseUrl: paymentApiBase(config),
    timeoutMs: config.PAYMENT_TIMEOUT_MS,
    breakerThreshold: config.PAYMENT_BREAKER_THRESHOLD,
    halfOpenAfterMs: config.PAYMENT_BREAKER_HALF_OPEN_MS,
    maxConcurrent: config.PAYMENT_MAX_CONCURRENT,
    maxQueue: config.PAYMENT_MAX_QUEUE,
    // Stripe's rate limit says it is overloaded, not that the request is wrong: a failure as a 5xx is.
    overloadStatuses: [429],
    logger,
    metrics,
  });
  return {
    inventoryHttp,
    paymentHttp,
    inventory: new InventoryClient(inventoryHttp),
    // The payment sandbox speaks Stripe's API: one adapter for both providers.
    payment: new StripeGateway(paymentHttp, config.STRIPE_SECRET_KEY),
    close: () => Promise.all([inventoryHttp.close(), paymentHttp.close()]),
  };
}
