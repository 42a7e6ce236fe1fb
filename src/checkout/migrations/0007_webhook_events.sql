-- Up Migration

-- The payment provider's webhook events already handled, by their id: Stripe sends an event again until
-- it is answered 2xx (and an operator may resend it), and one seen twice must change nothing the second
-- time. Kept as long as a resend is likely, then purged with the idempotency keys.
CREATE TABLE webhook_events (
  id          text PRIMARY KEY,
  type        text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_received ON webhook_events (received_at);

-- Down Migration
DROP TABLE webhook_events;
