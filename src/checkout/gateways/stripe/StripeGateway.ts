import Stripe from 'stripe';
import type { HttpDependency } from '../../../platform/dependency/HttpDependency.ts';
import { DependencyUnavailableError } from '../../../platform/errors/DependencyUnavailableError.ts';
import type {
  AttemptRef,
  ChargeRequest,
  ChargeResult,
  GatewayCharge,
  PaymentGateway,
} from '../PaymentGateway.ts';
import { DependencyHttpClient, forCaller } from './DependencyHttpClient.ts';

/**
 * How far before an attempt's start its look-up reaches back: `created` is Stripe's clock, the attempt's
 * start the database's, and the two may disagree by this much without a charge being missed.
 */
export const CLOCK_SKEW_SECONDS = 300;

/** Stripe's largest page. */
const PAGE = 100;

/**
 * The payment gateway as Stripe's PaymentIntents API, through the official SDK (the payment sandbox
 * speaks the same subset, docs/http-api.md#the-payment-sandbox). A charge is one PaymentIntent,
 * created and confirmed in one call, the attempt id its idempotency key and in its metadata.
 */
export class StripeGateway implements PaymentGateway {
  readonly #stripe: Stripe;
  readonly #dependency: string;

  constructor(http: HttpDependency, secretKey: string) {
    this.#dependency = http.name;
    this.#stripe = new Stripe(secretKey, {
      httpClient: new DependencyHttpClient(http),
      // No retries of the SDK's own. The dependency's breaker counts each failure once, and an unknown
      // outcome is settled by the checkout's client retrying with its key, or by recovery looking: SDK
      // retries under them would multiply every call a sick gateway gets (and every breaker count) by
      // their number, and hold a checkout past its budget.
      maxNetworkRetries: 0,
      // The dependency's own timeout bounds each call; this one is never reached before it.
      timeout: 2 ** 31 - 1,
      // Stripe's telemetry header carries the previous call's id and latency: nothing the sandbox or
      // a recorded request needs.
      telemetry: false,
    });
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    try {
      const intent = await forCaller(request.userId, () =>
        this.#stripe.paymentIntents.create(
          {
            amount: request.amountCents,
            currency: request.currency,
            payment_method: request.paymentToken,
            confirm: true,
            // Cards only, confirmed here and now: no payment method that redirects the customer, so no
            // return_url to give.
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            metadata: { ...request.metadata, userId: request.userId, attemptId: request.attemptId },
          },
          { idempotencyKey: request.attemptId },
        ),
      );
      if (intent.status === 'succeeded') return { outcome: 'succeeded', chargeId: intent.id };
      // A card that asks for authentication (3-D Secure) cannot be answered by a server-side checkout.
      if (intent.status === 'requires_action')
        return { outcome: 'declined', declineCode: 'authentication_required' };
      throw new Error(`payment intent ${intent.id} is ${intent.status} after confirmation`);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeCardError)
        return { outcome: 'declined', declineCode: error.decline_code ?? error.code ?? 'card_declined' };
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.param === 'payment_method')
        return { outcome: 'invalid_payment_method' };
      throw this.#unavailable(error);
    }
  }

  async refund(chargeId: string): Promise<void> {
    try {
      await this.#stripe.refunds.create(
        { payment_intent: chargeId },
        { idempotencyKey: `refund-${chargeId}` },
      );
    } catch (error) {
      // Refunded already (by another worker's key, or by hand at the dashboard): what was asked holds.
      if (
        error instanceof Stripe.errors.StripeInvalidRequestError &&
        error.code === 'charge_already_refunded'
      )
        return;
      throw this.#unavailable(error);
    }
  }

  /**
   * The attempt's payments, from a list of the PaymentIntents created since it started, read on
   * Stripe's consistent list rather than its search: search (`metadata['attemptId']:'...'`) is
   * eventually consistent, and a payment made a moment ago missing from it would have recovery release
   * the stock of a paid order, and refund it later. Nor a replay of the create with the same key: that
   * is a charge, not a look-up (it would charge an attempt whose call never reached Stripe), and it
   * replays a stored 5xx as often as it is asked. The list reads only what was created since the attempt
   * started (less the clock skew), a few pages at most for an attempt recovery settles within its lease.
   */
  async chargesFor(attempt: AttemptRef): Promise<GatewayCharge[]> {
    try {
      const since = Math.floor(attempt.startedAt.getTime() / 1000) - CLOCK_SKEW_SECONDS;
      const found: Stripe.PaymentIntent[] = [];
      for await (const intent of this.#stripe.paymentIntents.list({ created: { gte: since }, limit: PAGE }))
        if (intent.metadata.attemptId === attempt.id) found.push(intent);
      const charges: GatewayCharge[] = [];
      for (const intent of found) {
        const refunded =
          intent.status === 'succeeded' &&
          (await this.#stripe.refunds.list({ payment_intent: intent.id, limit: 1 })).data.length > 0;
        charges.push(chargeOf(intent, refunded));
      }
      return charges;
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  /** Every PaymentIntent, then every refund (a refund made meanwhile is still seen), page by page. */
  async *allCharges(): AsyncGenerator<GatewayCharge> {
    try {
      const intents: Stripe.PaymentIntent[] = [];
      for await (const intent of this.#stripe.paymentIntents.list({ limit: PAGE })) intents.push(intent);
      const refunded = new Set<string>();
      for await (const refund of this.#stripe.refunds.list({ limit: PAGE })) {
        const intent = refund.payment_intent;
        if (refund.status !== 'failed' && refund.status !== 'canceled' && intent)
          refunded.add(typeof intent === 'string' ? intent : intent.id);
      }
      for (const intent of intents) yield chargeOf(intent, refunded.has(intent.id));
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  /**
   * Outcome-unknown failures as the checkout knows them: the dependency's own (timeout, reset, 5xx, a
   * rate limit's 429 when the dependency counts it as one, open breaker, full bulkhead: what the SDK
   * wraps as a connection error), a 429 answered (Stripe turned the call away, but the flow never
   * guesses) and a conflict with a request under the same key still running (409). Anything else (a bad key, a request Stripe calls invalid) is our own fault:
   * an error, never counted against the breaker, answered 500 with an errorId.
   */
  #unavailable(error: unknown): unknown {
    if (
      error instanceof Stripe.errors.StripeConnectionError &&
      error.detail instanceof DependencyUnavailableError
    )
      return error.detail;
    if (error instanceof Stripe.errors.StripeConnectionError)
      return new DependencyUnavailableError(this.#dependency, 'connection_lost', {
        retryAfterSeconds: 1,
        cause: error,
      });
    if (
      error instanceof Stripe.errors.StripeRateLimitError ||
      (error as Stripe.errors.StripeError)?.statusCode === 409
    )
      return new DependencyUnavailableError(this.#dependency, 'server_error', {
        retryAfterSeconds: 1,
        cause: error,
      });
    if (error instanceof Stripe.errors.StripeError)
      return new Error(
        `payment gateway answered ${error.statusCode ?? 'no status'} (${error.rawType ?? error.type}${error.code ? `: ${error.code}` : ''})`,
        { cause: error },
      );
    return error;
  }
}

function chargeOf(intent: Stripe.PaymentIntent, refunded: boolean): GatewayCharge {
  return {
    id: intent.id,
    status: intent.status,
    refunded,
    amount: intent.amount,
    attemptId: intent.metadata.attemptId,
  };
}
