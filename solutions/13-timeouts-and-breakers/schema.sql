-- Orders the checkout took. `stock` says whether inventory confirmed the stock before we answered
-- ('confirmed') or could not be asked in time ('unconfirmed': checked again before shipping).
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  sku text NOT NULL,
  qty integer NOT NULL CHECK (qty > 0),
  total_cents bigint NOT NULL,
  stock text NOT NULL CHECK (stock IN ('confirmed', 'unconfirmed')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- AP mode: price writes accepted while Redis was out of reach, applied in id order once it is back.
-- Postgres, not the process: an accepted write outlives the instance that accepted it.
CREATE TABLE pending_prices (
  id bigserial PRIMARY KEY,
  sku text NOT NULL,
  cents bigint NOT NULL,
  accepted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pending_prices_sku ON pending_prices (sku);
