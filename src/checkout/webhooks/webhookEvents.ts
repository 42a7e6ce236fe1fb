/** The provider's events the checkout acts on; any other is answered 2xx and left alone. */
export const HANDLED_EVENT_TYPES = [
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'charge.refunded',
] as const;

/** The metric's `type` label: a handled type, or `other`. */
export const WEBHOOK_EVENT_TYPES: readonly string[] = [...HANDLED_EVENT_TYPES, 'other'];

/** What became of an event (the metric's `outcome` label). */
export const WEBHOOK_OUTCOMES = ['settled', 'unchanged', 'duplicate', 'ignored', 'deferred'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];
