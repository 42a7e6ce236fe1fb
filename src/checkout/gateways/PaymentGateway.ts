export interface ChargeRequest {
  /** The checkout attempt: the gateway's idempotency key, so a retried charge is never a second charge. */
  attemptId: string;
  amountCents: number;
  currency: string;
  paymentToken: string;
  /** The user who pays: the gateway's 5xx answers to one user alone never open its breaker. */
  userId: string;
  metadata: Record<string, string>;
}

export type ChargeResult =
  | { outcome: 'succeeded'; chargeId: string }
  | { outcome: 'declined'; declineCode: string }
  | { outcome: 'invalid_payment_method' };

/** A payment the gateway holds, as recovery and reconcile judge it. */
export interface GatewayCharge {
  /** The payment's id at the gateway (a PaymentIntent's `pi_...`): an order's `charge_id`. */
  id: string;
  /** `succeeded` when the money was taken; anything else took none. */
  status: string;
  refunded: boolean;
  amount: number;
  attemptId: string | undefined;
}

/** The attempt a look-up is about: its id, and when it was recorded (no charge for it is older). */
export interface AttemptRef {
  id: string;
  startedAt: Date;
}

/**
 * What the checkout asks of a payment provider (docs/architecture.md section 5). Every method throws
 * DependencyUnavailableError when the provider cannot answer, saying whether the call may have taken
 * effect; any other error is the checkout's own fault.
 */
export interface PaymentGateway {
  /** Charges once per attempt id, however often it is called. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /** Refunds a payment in full; refunding it again changes nothing. */
  refund(chargeId: string): Promise<void>;
  /**
   * The payments made for an attempt, read consistently: a payment made before the call is in the
   * answer. How an unknown outcome is settled, by looking rather than guessing.
   */
  chargesFor(attempt: AttemptRef): Promise<GatewayCharge[]>;
  /** Every payment the provider holds, page by page (for reconciliation). */
  allCharges(): AsyncGenerator<GatewayCharge>;
}
