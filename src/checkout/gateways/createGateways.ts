import type { Logger } from 'pino';
import type { Static } from 'typebox';
import { Dependencies } from '../../contract/services.ts';
import { HttpDependency } from '../../platform/dependency/HttpDependency.ts';
import type { CallRecorder } from '../../platform/metrics/PlatformMetrics.ts';
import type { CheckoutSettings } from '../config.ts';
import { InventoryClient } from './InventoryClient.ts';
import { PaymentGateway } from './PaymentGateway.ts';

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
    logger,
    metrics,
  });
  const paymentHttp = new HttpDependency({
    name: Dependencies.payment,
    baseUrl: config.PAYMENT_API_URL,
    timeoutMs: config.PAYMENT_TIMEOUT_MS,
    breakerThreshold: config.PAYMENT_BREAKER_THRESHOLD,
    halfOpenAfterMs: config.PAYMENT_BREAKER_HALF_OPEN_MS,
    maxConcurrent: config.PAYMENT_MAX_CONCURRENT,
    maxQueue: config.PAYMENT_MAX_QUEUE,
    headers: { authorization: `Bearer ${config.PAYMENT_API_KEY}` },
    logger,
    metrics,
  });
  return {
    inventoryHttp,
    paymentHttp,
    inventory: new InventoryClient(inventoryHttp),
    payment: new PaymentGateway(paymentHttp),
    close: () => Promise.all([inventoryHttp.close(), paymentHttp.close()]),
  };
}
