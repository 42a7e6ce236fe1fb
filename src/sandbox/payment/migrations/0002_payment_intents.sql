-- Up Migration
-- The sandbox speaks Stripe's PaymentIntents API now: the home-made charges of 0001 go with their protocol.
DROP TABLE idempotency_keys;
DROP TABLE refunds;
DROP TABLE charges;

CREATE TABLE payment_intents (
  id                 text PRIMARY KEY,
  amount             integer NOT NULL CHECK (amount > 0),
  currency           text NOT NULL,
  status             text NOT NULL
    CHECK (status IN ('requires_payment_method', 'requires_confirmation', 'succeeded')),
  payment_method     text NOT NULL,
  -- The charge a confirmation made (`ch_...`), declined or not; null before confirmation.
  latest_charge      text,
  -- Stripe's `last_payment_error` of a declined confirmation.
  last_payment_error jsonb,
  metadata           jsonb NOT NULL DEFAULT '{}',
  created_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Stripe lists newest first; `created[gte]` bounds a list by creation time.
CREATE INDEX payment_intents_created ON payment_intents (created_at DESC, id DESC);

CREATE TABLE refunds (
  id                text PRIMARY KEY,
  -- A payment is refunded in full, once.
  payment_intent_id text NOT NULL UNIQUE REFERENCES payment_intents (id),
  charge_id         text NOT NULL,
  amount            integer NOT NULL,
  currency          text NOT NULL,
  metadata          jsonb NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX refunds_created ON refunds (created_at DESC, id DESC);

-- As Stripe documents them: a key is the account's, for one endpoint and one set of parameters, for 24 hours.
CREATE TABLE idempotency_keys (
  key            text PRIMARY KEY,
  endpoint       text NOT NULL,
  request_hash   text NOT NULL,
  status_code    integer NOT NULL,
  response_body  jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE refunds;
DROP TABLE payment_intents;
CREATE TABLE charges (
  id           text PRIMARY KEY,
  amount       integer NOT NULL CHECK (amount > 0),
  currency     text NOT NULL,
  status       text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  failure_code text,
  attempt_id   text,
  metadata     jsonb NOT NULL DEFAULT '{}',
  refunded     boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX charges_attempt ON charges (attempt_id);
CREATE TABLE refunds (
  id          text PRIMARY KEY,
  charge_id   text NOT NULL UNIQUE REFERENCES charges (id),
  amount      integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE idempotency_keys (
  key            text NOT NULL,
  endpoint       text NOT NULL,
  request_hash   text NOT NULL,
  status_code    integer NOT NULL,
  response_body  jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (endpoint, key)
);
