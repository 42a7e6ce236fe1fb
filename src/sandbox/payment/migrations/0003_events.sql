-- Up Migration
-- The events the sandbox sends to its webhook endpoint, written in the transaction of the change they
-- tell of (an outbox): an event is never sent for a change that rolled back, nor lost for one that
-- committed. Sent until the endpoint answers 2xx, with a growing pause between tries, as Stripe does.
CREATE TABLE events (
  id               text PRIMARY KEY,
  type             text NOT NULL,
  -- The event's `data.object`, as the object was when the event happened.
  object           jsonb NOT NULL,
  idempotency_key  text,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  delivered_at     timestamptz,
  delivery_tries   integer NOT NULL DEFAULT 0,
  next_delivery_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_undelivered ON events (next_delivery_at) WHERE delivered_at IS NULL;

-- Down Migration
DROP TABLE events;
