-- Payments schema. The harness applies this file to a template database, and every test file gets
-- a fresh copy of it.
CREATE TABLE payments (
  id                 bigserial PRIMARY KEY,
  customer_id        text    NOT NULL,
  amount_cents       bigint  NOT NULL CHECK (amount_cents > 0),
  currency           char(3) NOT NULL,
  status             text    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  provider_charge_id text,
  created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX payments_customer_idx ON payments (customer_id, created_at);

-- TODO: the mobile app sends an Idempotency-Key with every payment and reuses it on retries.
-- Nothing here remembers which key produced which payment, or what we answered.
