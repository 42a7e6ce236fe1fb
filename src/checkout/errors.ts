import { defineErrors, type ErrorDefinition } from '../platform/errors/AppError.ts';
import { PlatformErrors } from '../platform/errors/codes.ts';

/** Error codes of the checkout domain (docs/http-api.md lists every status). Platform codes (validation, 401, 503, 500) live beside the platform. */
export const CheckoutErrors = defineErrors({
  CART_NOT_FOUND: {
    status: 404,
    title: 'Cart not found',
    message: 'No such cart.',
  },
  ORDER_NOT_FOUND: {
    status: 404,
    title: 'Order not found',
    message: 'No such order.',
  },
  CART_ALREADY_CHECKED_OUT: {
    status: 409,
    title: 'Cart already checked out',
    message: 'This cart has already been checked out.',
  },
  CART_EMPTY: {
    status: 409,
    title: 'Cart empty',
    message: 'This cart has no items to check out.',
  },
  CHECKOUT_IN_PROGRESS: {
    status: 409,
    title: 'Checkout in progress',
    message: 'A checkout of this cart is already in progress.',
    retryable: true,
  },
  UNKNOWN_SKU: {
    status: 400,
    title: 'Unknown SKU',
    message: 'No product has this SKU.',
  },
  CART_LIMIT_EXCEEDED: {
    status: 422,
    title: 'Cart limit exceeded',
    message: 'This cart cannot hold that: it would pass one of its limits.',
  },
  INVENTORY_CONFLICT: {
    status: 409,
    title: 'Insufficient stock',
    message: 'One or more items in your cart are no longer available.',
  },
  PAYMENT_DECLINED: {
    status: 402,
    title: 'Payment declined',
    message: 'Your payment was declined. Please check your card details and try again.',
  },
  PAYMENT_METHOD_INVALID: {
    status: 400,
    title: 'Payment method invalid',
    message: 'The payment gateway did not accept this payment token.',
  },
  IDEMPOTENCY_KEY_MISMATCH: {
    status: 422,
    title: 'Idempotency key reused',
    message: 'This Idempotency-Key was first used with a different request body.',
  },
  WEBHOOK_NOT_VERIFIED: {
    status: 400,
    title: 'Webhook not verified',
    message: "The body is not an event signed with this endpoint's secret within the last five minutes.",
  },
  IDEMPOTENCY_KEY_IN_USE: {
    status: 409,
    title: 'Idempotency key in use',
    message: 'A request with this Idempotency-Key is still being processed.',
    retryable: true,
  },
});

/** What every API route may answer besides its own: no valid token, or the database behind it down. */
export const API_ERRORS: readonly ErrorDefinition[] = [
  PlatformErrors.UNAUTHENTICATED,
  PlatformErrors.SERVICE_TEMPORARILY_UNAVAILABLE,
];
