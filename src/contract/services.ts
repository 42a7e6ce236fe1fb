/**
 * The names by which Steadfast's processes and the checkout's dependencies appear in logs, metrics and
 * `stack.json`: a service's `service` field, a dependency's `dependency` field and label. Imports nothing.
 */

export const Services = {
  checkout: 'checkout',
  inventory: 'inventory',
  payment: 'payment-sandbox',
} as const;

/** The checkout's dependencies, by the name its breakers, metrics and log lines give each. */
export const Dependencies = {
  inventory: 'inventoryService',
  payment: 'paymentGateway',
  /** The service's own database, whose calls are counted like any dependency's. */
  database: 'database',
} as const;

/** The checkout's own request, as `request_completed` names it in `endpoint`: what a completed order looks like. */
export const CHECKOUT_ENDPOINT = 'POST /api/checkout/complete';
