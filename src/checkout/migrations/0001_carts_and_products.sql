-- Up Migration
CREATE TABLE products (
  sku          text PRIMARY KEY,
  name         text NOT NULL,
  price_cents  integer NOT NULL CHECK (price_cents > 0),
  currency     text NOT NULL DEFAULT 'usd'
);

CREATE TABLE carts (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         text NOT NULL,
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'checked_out')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  checked_out_at  timestamptz
);
CREATE INDEX carts_user ON carts (user_id);

CREATE TABLE cart_items (
  cart_id   uuid NOT NULL REFERENCES carts (id),
  sku       text NOT NULL REFERENCES products (sku),
  quantity  integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (cart_id, sku)
);

-- Down Migration
DROP TABLE cart_items;
DROP TABLE carts;
DROP TABLE products;
