/**
 * The sandbox's answers, in the shapes of Stripe's API objects. Every member Stripe's API reference
 * marks as always present is here, with its type: `stripeObjects.typecheck.ts` assigns each builder's
 * result to the official SDK's own type, so `tsc` fails the day they drift apart.
 */

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
