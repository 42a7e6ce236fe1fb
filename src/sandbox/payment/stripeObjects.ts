/**
 * The sandbox's answers, in the shapes of Stripe's API objects. Every member Stripe's API reference
 * marks as always present is here, with its type: `stripeObjects.test.ts` assigns each builder's
 * result to the official SDK's own type, so `tsc` fails the day they drift apart.
 */

import Stripe from 'stripe';

export interface PaymentIntentRow {
  id: string;
  amount: number;
  currency: string;
  status: 'requires_payment_method' | 'requires_confirmation' | 'succeeded';
  payment_method: string;
  latest_charge: string | null;
  last_payment_error: LastPaymentError | null;
  metadata: Record<string, string>;
  created_at: Date;
}

export interface RefundRow {
  id: string;
  payment_intent_id: string;
  charge_id: string;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  created_at: Date;
}

/** A declined confirmation, as the PaymentIntent keeps it and the 402 carries it. */
export interface LastPaymentError {
  type: 'card_error';
  code: string;
  decline_code: string;
  charge: string;
  message: string;
}

/** The API version the sandbox's objects follow: the one the SDK in use was generated from. */
export const STRIPE_API_VERSION = Stripe.API_VERSION;

const seconds = (at: Date) => Math.floor(at.getTime() / 1000);

export function paymentIntentObject(row: PaymentIntentRow) {
  const succeeded = row.status === 'succeeded';
  return {
    id: row.id,
    object: 'payment_intent' as const,
    allowed_payment_method_types: null,
    amount: row.amount,
    amount_capturable: 0,
    amount_received: succeeded ? row.amount : 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: { allow_redirects: 'never' as const, enabled: true },
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic' as const,
    client_secret: `${row.id}_secret_sandbox`,
    confirmation_method: 'automatic' as const,
    created: seconds(row.created_at),
    currency: row.currency,
    customer: null,
    customer_account: null,
    description: null,
    excluded_payment_method_types: null,
    last_payment_error: row.last_payment_error,
    latest_charge: row.latest_charge,
    livemode: false,
    managed_payments: null,
    metadata: row.metadata,
    next_action: null,
    on_behalf_of: null,
    // A declined confirmation detaches the payment method, as Stripe does.
    payment_method: row.status === 'requires_payment_method' ? null : row.payment_method,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: row.status,
    transfer_data: null,
    transfer_group: null,
  };
}

export function refundObject(row: RefundRow) {
  return {
    id: row.id,
    object: 'refund' as const,
    amount: row.amount,
    balance_transaction: null,
    charge: row.charge_id,
    created: seconds(row.created_at),
    currency: row.currency,
    customer: null,
    customer_account: null,
    metadata: row.metadata,
    payment_intent: row.payment_intent_id,
    payment_method: null,
    reason: null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
}

/**
 * The Charge a PaymentIntent's confirmation made, as `charge.refunded` carries it (the sandbox keeps no
 * charges of their own: a charge is its PaymentIntent's `latest_charge`).
 */
export function chargeObject(intent: PaymentIntentRow, refunded: boolean) {
  const succeeded = intent.status === 'succeeded';
  return {
    id: intent.latest_charge ?? '',
    object: 'charge' as const,
    amount: intent.amount,
    amount_captured: succeeded ? intent.amount : 0,
    amount_refunded: refunded ? intent.amount : 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: null,
    captured: succeeded,
    created: seconds(intent.created_at),
    currency: intent.currency,
    customer: null,
    description: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: intent.last_payment_error?.code ?? null,
    failure_message: intent.last_payment_error?.message ?? null,
    fraud_details: null,
    livemode: false,
    metadata: intent.metadata,
    on_behalf_of: null,
    outcome: null,
    paid: succeeded,
    payment_intent: intent.id,
    payment_method: intent.payment_method,
    payment_method_details: null,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: succeeded ? 'succeeded' : 'failed',
    transfer_data: null,
    transfer_group: null,
  };
}

/** The events the sandbox sends: what the checkout's webhook handles. */
export type EventType = 'payment_intent.succeeded' | 'payment_intent.payment_failed' | 'charge.refunded';

export interface EventRow<T extends EventType = EventType, O = Record<string, unknown>> {
  id: string;
  type: T;
  /** The event's `data.object`: the PaymentIntent or the Charge as it was when the event happened. */
  object: O;
  /** The Idempotency-Key of the request that caused it. */
  idempotency_key: string | null;
  delivered_at: Date | null;
  created_at: Date;
}

export function eventObject<T extends EventType, O>(row: EventRow<T, O>) {
  return {
    id: row.id,
    object: 'event' as const,
    api_version: STRIPE_API_VERSION,
    created: seconds(row.created_at),
    data: { object: row.object },
    livemode: false,
    pending_webhooks: row.delivered_at ? 0 : 1,
    request: { id: null, idempotency_key: row.idempotency_key },
    type: row.type,
  };
}

export function listObject<T>(url: string, data: T[], hasMore: boolean) {
  return { object: 'list' as const, data, has_more: hasMore, url };
}

/** Stripe's error types the sandbox answers with. */
export type ErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'authentication_error'
  | 'rate_limit_error';

/** Stripe's error object: `{ error: { type, code, decline_code, param, message, ... } }`. */
export function errorObject(error: {
  type: ErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  charge?: string;
  payment_intent?: ReturnType<typeof paymentIntentObject>;
  request_log_url?: string;
}) {
  return { error };
}
