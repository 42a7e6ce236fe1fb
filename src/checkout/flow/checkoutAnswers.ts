import { PlatformErrors } from '../../platform/errors/codes.ts';
import { ANY_ROUTE_ERRORS, BODY_ERRORS } from '../../platform/http/apiDocument.ts';
import { API_ERRORS, CheckoutErrors } from '../errors.ts';

/** Every error `POST /api/checkout/complete` may answer: its API document's responses. */
export const CHECKOUT_ERRORS = [
  ...ANY_ROUTE_ERRORS,
  ...BODY_ERRORS,
  ...API_ERRORS,
  PlatformErrors.RATE_LIMITED,
  CheckoutErrors.CART_NOT_FOUND,
  CheckoutErrors.CART_ALREADY_CHECKED_OUT,
  CheckoutErrors.CART_EMPTY,
  CheckoutErrors.CART_LIMIT_EXCEEDED,
  CheckoutErrors.CHECKOUT_IN_PROGRESS,
  CheckoutErrors.INVENTORY_CONFLICT,
  CheckoutErrors.PAYMENT_DECLINED,
  CheckoutErrors.PAYMENT_METHOD_INVALID,
  CheckoutErrors.IDEMPOTENCY_KEY_MISMATCH,
  CheckoutErrors.IDEMPOTENCY_KEY_IN_USE,
];

/**
 * The values of `checkout_outcomes_total{outcome}` known before any checkout: exported at 0 from the
 * start, so that a rate over the first of them has an earlier sample.
 */
export const CHECKOUT_OUTCOMES: readonly string[] = [
  ...new Set(['completed', 'replayed', ...CHECKOUT_ERRORS.map((error) => error.code)]),
];
