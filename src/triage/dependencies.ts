import type { ServiceStart } from './LogEvidence.ts';

/**
 * The dependencies the checkout service calls, as its log lines name them, with the service that
 * stands behind each (its own log lines carry that name) and the setting that points at it.
 */
export const DEPENDENCIES: Record<string, { service: string; setting: string; field: keyof ServiceStart }> = {
  paymentGateway: { service: 'payment-sandbox', setting: 'PAYMENT_API_URL', field: 'paymentApiUrl' },
  inventoryService: { service: 'inventory', setting: 'INVENTORY_API_URL', field: 'inventoryApiUrl' },
};

/** The dependency a service is, by the `service` field of its log lines. */
export const DEPENDENCY_OF_SERVICE: Record<string, string> = Object.fromEntries(
  Object.entries(DEPENDENCIES).map(([dependency, { service }]) => [service, dependency]),
);
