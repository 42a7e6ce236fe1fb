import type { PaymentIntentRow } from './stripeObjects.ts';

/** A stored PaymentIntent, confirmed and paid: what the builders' type checks start from. */
export const paidIntentRow: PaymentIntentRow = {
  id: 'pi_0',
  amount: 2800,
  currency: 'usd',
  status: 'succeeded',
  payment_method: 'pm_card_visa',
  latest_charge: 'ch_0',
  last_payment_error: null,
  metadata: { attemptId: 'a' },
  created_at: new Date(),
};
