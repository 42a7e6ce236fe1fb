/**
 * What one cart may hold. Every sum of quantities and prices a cart can reach stays far inside PostgreSQL's
 * integer, so no cart is ever a 500 at checkout; a change that would pass a limit is refused when it is made.
 */
export const CART_LIMITS = {
  /** Distinct products in one cart. */
  maxLines: 100,
  /** Units of one product in one cart, across every add (one add takes at most 1,000 as well). */
  maxLineQuantity: 1000,
  /** The largest amount a card gateway takes in one charge (Stripe's: 99,999,999 in the smallest unit). */
  maxTotalCents: 99_999_999,
} as const;

export type CartLimit = 'lines' | 'line_quantity' | 'total';

/** Which limit a cart would pass, if any, holding `lines` lines of which one has `lineQuantity` units. */
export function limitPassed(cart: {
  lines: number;
  lineQuantity: number;
  totalCents: number;
}): CartLimit | undefined {
  if (cart.lines > CART_LIMITS.maxLines) return 'lines';
  if (cart.lineQuantity > CART_LIMITS.maxLineQuantity) return 'line_quantity';
  if (cart.totalCents > CART_LIMITS.maxTotalCents) return 'total';
  return undefined;
}

/** The sentence a client gets for each limit. */
export const LIMIT_DETAILS: Record<CartLimit, string> = {
  lines: `A cart holds at most ${CART_LIMITS.maxLines} different products.`,
  line_quantity: `A cart holds at most ${CART_LIMITS.maxLineQuantity} units of one product.`,
  total: `A cart's total is at most ${CART_LIMITS.maxTotalCents} in the smallest unit of its currency.`,
};
