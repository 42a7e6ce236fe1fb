-- Up Migration

-- One row per try at checking out a cart. `phase` says where it stopped, recorded before and after
-- every external call, so a crash at any point leaves a row a recovery job can finish or unwind:
--   started -> stock_reserved -> payment_pending -> charged -> completed
--   any phase before `charged` -> failed (stock released, nothing charged)
CREATE TABLE checkout_attempts (
  id               uuid PRIMARY KEY,
  user_id          text NOT NULL,
  cart_id          uuid NOT NULL REFERENCES carts (id),
  phase            text NOT NULL CHECK (phase IN ('started', 'stock_reserved', 'payment_pending', 'charged', 'completed', 'failed')),
  amount_cents     integer NOT NULL CHECK (amount_cents > 0),
  currency         text NOT NULL,
  items            jsonb NOT NULL,
  charge_id        text UNIQUE,
  error_code       text,
  stock_committed  boolean NOT NULL DEFAULT false,
  -- Whoever works on the attempt (a request, later a recovery worker) holds it until then.
  locked_until     timestamptz NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
-- At most one attempt per cart that is not failed: two checkouts of one cart can never both charge.
CREATE UNIQUE INDEX checkout_attempts_one_live_per_cart ON checkout_attempts (cart_id) WHERE phase <> 'failed';
CREATE INDEX checkout_attempts_unfinished ON checkout_attempts (locked_until) WHERE phase NOT IN ('completed', 'failed');

-- Idempotency keys are scoped to the user. The first final outcome (2xx or 4xx) is stored and replayed
-- byte for byte; a 5xx is not final, so the key's attempt may be resumed or replaced.
CREATE TABLE idempotency_keys (
  user_id          text NOT NULL,
  key              text NOT NULL,
  request_hash     text NOT NULL,
  attempt_id       uuid REFERENCES checkout_attempts (id),
  response_status  integer,
  response_body    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE orders (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id       text NOT NULL,
  cart_id       uuid NOT NULL UNIQUE REFERENCES carts (id),
  attempt_id    uuid NOT NULL UNIQUE REFERENCES checkout_attempts (id),
  charge_id     text NOT NULL UNIQUE,
  amount_cents  integer NOT NULL,
  currency      text NOT NULL,
  items         jsonb NOT NULL,
  status        text NOT NULL DEFAULT 'CONFIRMED',
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user ON orders (user_id);

-- Down Migration
DROP TABLE orders;
DROP TABLE idempotency_keys;
DROP TABLE checkout_attempts;
