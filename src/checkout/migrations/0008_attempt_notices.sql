-- Up Migration

-- The hand-off between a request and the payment provider's webhook, for an attempt whose charge
-- answer was lost. `answered_unknown_at`: the request answered without an outcome and works on the
-- attempt no more, so a webhook that tells of its payment may take it over at once (recovery still
-- waits for the lease, giving the gateway time). `payment_notified_at`: a webhook told of the payment
-- while a worker held the attempt, so that worker settles it rather than answer "unknown".
ALTER TABLE checkout_attempts ADD COLUMN answered_unknown_at timestamptz;
ALTER TABLE checkout_attempts ADD COLUMN payment_notified_at timestamptz;

-- Down Migration
ALTER TABLE checkout_attempts DROP COLUMN payment_notified_at;
ALTER TABLE checkout_attempts DROP COLUMN answered_unknown_at;
