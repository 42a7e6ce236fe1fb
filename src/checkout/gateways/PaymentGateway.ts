import type { HttpDependency } from '../../platform/dependency/HttpDependency.ts';

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

interface GatewayError {
  error?: { type?: string; code?: string; decline_code?: string; param?: string };
}

/** A Stripe-like payment gateway (the sandbox in development), behind its own breaker, timeout and bulkhead. */
export class PaymentGateway {
  readonly #http: HttpDependency;

  constructor(http: HttpDependency) {
    this.#http = http;
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const response = await this.#http.request<{ id?: string; status?: string } & GatewayError>(
      'POST',
      '/v1/charges',
      {
        caller: request.userId,
        headers: { 'idempotency-key': request.attemptId },
        body: {
          amount: request.amountCents,
          currency: request.currency,
          source: request.paymentToken,
          metadata: { ...request.metadata, userId: request.userId, attemptId: request.attemptId },
        },
      },
    );
    const { body } = response;
    if (response.status === 201 && body.status === 'succeeded' && body.id)
      return { outcome: 'succeeded', chargeId: body.id };
    if (response.status === 402 && body.error?.type === 'card_error') {
      return {
        outcome: 'declined',
        declineCode: body.error.decline_code ?? body.error.code ?? 'card_declined',
      };
    }
    if (response.status === 400 && body.error?.param === 'source')
      return { outcome: 'invalid_payment_method' };
    // Anything else (a bad API key, a request the gateway calls malformed) is our fault, not the user's.
    throw new Error(`payment gateway answered ${response.status} (${body.error?.type ?? 'no error type'})`);
  }

  async refund(chargeId: string): Promise<void> {
    const response = await this.#http.request('POST', '/v1/refunds', {
      headers: { 'idempotency-key': `refund-${chargeId}` },
      body: { charge: chargeId },
    });
    if (response.status !== 201) throw new Error(`payment gateway refund answered ${response.status}`);
  }

  /** Charges made for an attempt: how an unknown outcome is settled, by looking rather than guessing. */
  async chargesFor(attemptId: string): Promise<GatewayCharge[]> {
    return (await this.#page(`attempt=${encodeURIComponent(attemptId)}&limit=100`)).data;
  }

  /** Every charge the gateway holds, page by page (for reconciliation). */
  async *allCharges(): AsyncGenerator<GatewayCharge> {
    let after: string | undefined;
    for (;;) {
      const page = await this.#page(
        `limit=100${after ? `&starting_after=${encodeURIComponent(after)}` : ''}`,
      );
      yield* page.data;
      if (!page.has_more || page.data.length === 0) return;
      after = page.data.at(-1)?.id;
    }
  }

  async #page(query: string): Promise<{ data: GatewayCharge[]; has_more: boolean }> {
    const response = await this.#http.request<{ data: RawCharge[]; has_more: boolean }>(
      'GET',
      `/v1/charges?${query}`,
    );
    if (response.status !== 200) throw new Error(`payment gateway charge list answered ${response.status}`);
    return {
      has_more: response.body.has_more,
      data: response.body.data.map((c) => ({
        id: c.id,
        status: c.status,
        refunded: c.refunded,
        amount: c.amount,
        attemptId: c.metadata?.attemptId,
      })),
    };
  }
}

interface RawCharge {
  id: string;
  status: string;
  refunded: boolean;
  amount: number;
  metadata?: Record<string, string>;
}

export interface GatewayCharge {
  id: string;
  status: string;
  refunded: boolean;
  amount: number;
  attemptId: string | undefined;
}
