-- Up Migration
CREATE TABLE stock (
  sku         text PRIMARY KEY,
  initial     integer NOT NULL CHECK (initial >= 0),
  available   integer NOT NULL CHECK (available >= 0),
  reserved    integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  sold        integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- Stock is never created or lost, only moved: every unit is available, reserved or sold.
  CONSTRAINT stock_conserved CHECK (initial = available + reserved + sold)
);

CREATE TABLE reservations (
  id          text PRIMARY KEY,
  status      text NOT NULL CHECK (status IN ('reserved', 'committed', 'released', 'expired')),
  expires_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_expiring ON reservations (expires_at) WHERE status = 'reserved';

CREATE TABLE reservation_items (
  reservation_id  text NOT NULL REFERENCES reservations (id),
  sku             text NOT NULL REFERENCES stock (sku),
  quantity        integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (reservation_id, sku)
);

-- Down Migration
DROP TABLE reservation_items;
DROP TABLE reservations;
DROP TABLE stock;
