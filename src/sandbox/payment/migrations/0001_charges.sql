-- Up Migration
CREATE TABLE charges (
  id           text PRIMARY KEY,
  amount       integer NOT NULL CHECK (amount > 0),
  currency     text NOT NULL,
  status       text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  failure_code text,
  -- The checkout attempt this charge belongs to (from metadata.attemptId), for lookups by recovery.
  attempt_id   text,
  metadata     jsonb NOT NULL DEFAULT '{}',
  refunded     boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX charges_attempt ON charges (attempt_id);

CREATE TABLE refunds (
  id          text PRIMARY KEY,
  -- A charge is refunded in full, once.
  charge_id   text NOT NULL UNIQUE REFERENCES charges (id),
  amount      integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Like Stripe: the first answer to a key is stored and replayed; the same key with other parameters is refused.
CREATE TABLE idempotency_keys (
  key            text NOT NULL,
  endpoint       text NOT NULL,
  request_hash   text NOT NULL,
  status_code    integer NOT NULL,
  response_body  jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (endpoint, key)
);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE refunds;
DROP TABLE charges;
