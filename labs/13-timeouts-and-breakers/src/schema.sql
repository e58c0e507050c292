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

-- TODO: a price write made while Redis is out of reach (AP mode) has nowhere to wait for it.
