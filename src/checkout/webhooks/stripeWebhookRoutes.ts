import type { Logger } from 'pino';
import Stripe from 'stripe';
import Type from 'typebox';
import { logEvent } from '../../contract/logEvents.ts';
import { AppError } from '../../platform/errors/AppError.ts';
import { PlatformErrors } from '../../platform/errors/codes.ts';
import { ANY_ROUTE_ERRORS, errorResponses, successResponse } from '../../platform/http/apiDocument.ts';
import type { HttpServer } from '../../platform/http/createHttpServer.ts';
import type { CheckoutMetrics } from '../checkoutMetrics.ts';
import { CheckoutErrors } from '../errors.ts';
import type { CheckoutService } from '../flow/CheckoutService.ts';
import { isUuid } from '../ids.ts';
import type { WebhookEventStore } from './WebhookEventStore.ts';
import { HANDLED_EVENT_TYPES, type WebhookOutcome } from './webhookEvents.ts';

export interface StripeWebhookOptions {
  /** The endpoint's signing secret (`whsec_...`). */
  secret: string;
  service: Pick<CheckoutService, 'settleNotified'>;
  events: Pick<WebhookEventStore, 'seen' | 'record'>;
  /** The order a payment paid for, if any: what a refund's line names. */
  orderOfCharge: (chargeId: string) => Promise<{ orderId: string; attemptId: string } | undefined>;
  metrics: Pick<CheckoutMetrics, 'webhookEvent'>;
}

/** The largest event taken: a PaymentIntent's or a Charge's is a few kilobytes. */
const BODY_LIMIT_BYTES = 256 * 1024;
/** When a notice could not be acted on now: Stripe sends it again later anyway; this says when at the soonest. */
const DEFERRED_RETRY_AFTER_SECONDS = 5;

type Handled = { outcome: WebhookOutcome; attemptId?: string; orderId?: string };

/**
 * `POST /webhooks/stripe`: the payment provider's signed events, a second source of truth beside the
 * charge's own answer and recovery's look-ups. The signature is checked by the SDK on the body's bytes
 * as sent (kept raw, never parsed and serialised again); an event whose id settled an attempt before
 * changes nothing; a notice that could not be acted on now is answered 503 so that the provider sends it again.
 */
export async function registerStripeWebhookRoutes(app: HttpServer, options: StripeWebhookOptions) {
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES },
      (_request, body, done) => done(null, body),
    );
    scope.post(
      '/webhooks/stripe',
      {
        bodyLimit: BODY_LIMIT_BYTES,
        schema: {
          operationId: 'receiveStripeEvent',
          summary: "Receive the payment provider's events",
          description:
            'Stripe sends its events here (`payment_intent.succeeded`, `payment_intent.payment_failed`, ' +
            '`charge.refunded`), signed in `Stripe-Signature` with the endpoint secret (STRIPE_WEBHOOK_SECRET). ' +
            'A checkout whose answer was lost is settled at once. An event sent twice changes nothing.',
          tags: ['webhooks'],
          // No bearer token: the provider signs each event, and the signature is checked instead.
          security: [],
          headers: Type.Object({ 'stripe-signature': Type.Optional(Type.String()) }),
          response: {
            200: successResponse(Type.Object({ received: Type.Literal(true) }), {
              description: 'The event is handled (or was before, or is not about a checkout)',
              example: { received: true },
            }),
            ...errorResponses([
              ...ANY_ROUTE_ERRORS,
              PlatformErrors.SERVICE_TEMPORARILY_UNAVAILABLE,
              CheckoutErrors.WEBHOOK_NOT_VERIFIED,
            ]),
          },
        },
      },
      async (request) => {
        const signature = request.headers['stripe-signature'];
        const event = verified(request.body as Buffer, String(signature ?? ''), options.secret);
        // Signed, but no event as Stripe makes them (its ids are short and plain): nothing to act on, and
        // nothing of it stored.
        if (!isEvent(event)) {
          options.metrics.webhookEvent('other', 'ignored');
          return { received: true as const };
        }
        const type = event.type;
        if (await options.events.seen(event.id)) {
          options.metrics.webhookEvent(type, 'duplicate');
          return { received: true as const };
        }
        const handled = await handle(event, options, request.log as Logger);
        options.metrics.webhookEvent(type, handled.outcome);
        if (handled.outcome === 'deferred')
          throw new AppError(PlatformErrors.SERVICE_TEMPORARILY_UNAVAILABLE, {
            retryAfterSeconds: DEFERRED_RETRY_AFTER_SECONDS,
          });
        // An event that moved an attempt is remembered, so that it is never acted on twice; one that moved
        // nothing would move nothing again, and is not written down (every paid checkout sends one).
        if (handled.outcome === 'settled') await options.events.record(event.id, type);
        logEvent(request.log, 'info', 'webhook_event_handled', {
          eventId: event.id,
          eventType: type,
          ...(handled.attemptId ? { attemptId: handled.attemptId } : {}),
          ...(handled.orderId ? { orderId: handled.orderId } : {}),
          outcome: handled.outcome,
        });
        return { received: true as const };
      },
    );
  });
}

/** The event, if the body is one signed with `secret` within the SDK's tolerance (five minutes). */
function verified(body: Buffer, signature: string, secret: string): Stripe.Event {
  try {
    return Stripe.webhooks.constructEvent(body, signature, secret);
  } catch (error) {
    // A bad or stale signature, or a body that is no JSON under a good one: nothing of it is believed.
    throw new AppError(CheckoutErrors.WEBHOOK_NOT_VERIFIED, { cause: error });
  }
}

/** Stripe's event and PaymentIntent ids: a prefix, and letters and digits. */
const EVENT_ID = /^evt_[A-Za-z0-9_]{1,250}$/;
const PAYMENT_INTENT_ID = /^pi_[A-Za-z0-9_]{1,250}$/;

function isEvent(event: unknown): event is Stripe.Event {
  const { id, type } = (event ?? {}) as { id?: unknown; type?: unknown };
  return typeof id === 'string' && EVENT_ID.test(id) && typeof type === 'string';
}

async function handle(event: Stripe.Event, options: StripeWebhookOptions, log: Logger): Promise<Handled> {
  if (!(HANDLED_EVENT_TYPES as readonly string[]).includes(event.type)) return { outcome: 'ignored' };
  // Signed, but not the shape of the events handled: nothing to act on.
  if (typeof event.data?.object !== 'object' || event.data.object === null) return { outcome: 'ignored' };
  if (event.type === 'charge.refunded') {
    // Refunds are made by recovery (late charges) or by hand at the provider; either way the money is
    // back and nothing here is to change. An order's refund is named, for reconcile will flag it.
    const intent = event.data.object.payment_intent;
    const intentId = typeof intent === 'string' ? intent : intent?.id;
    const order =
      typeof intentId === 'string' && PAYMENT_INTENT_ID.test(intentId)
        ? await options.orderOfCharge(intentId)
        : undefined;
    return order ? { outcome: 'unchanged', ...order } : { outcome: 'unchanged' };
  }
  const intent = event.data.object as Stripe.PaymentIntent;
  const attemptId = intent.metadata?.attemptId;
  // Payments not made by a checkout (other code on the same account) are none of ours.
  if (!attemptId || !isUuid(attemptId)) return { outcome: 'ignored' };
  const paid = event.type === 'payment_intent.succeeded';
  const outcome = await options.service.settleNotified(attemptId, paid, log);
  return { outcome: outcome === 'unknown_attempt' ? 'ignored' : outcome, attemptId };
}
