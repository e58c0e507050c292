-- Payments schema. The harness applies this file to a template database, and every test file gets
-- a fresh copy of it.
CREATE TABLE payments (
  id                 bigserial PRIMARY KEY,
  customer_id        text    NOT NULL,
  amount_cents       bigint  NOT NULL CHECK (amount_cents > 0),
  currency           char(3) NOT NULL,
  status             text    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  provider_charge_id text,
  -- The Idempotency-Key that created the payment, and a hash of the request it came with. A failed
  -- payment gives its key up (sets it to NULL) so that a retry can use it.
  idempotency_key    text,
  request_hash       text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (customer_id, idempotency_key)
);

CREATE INDEX payments_customer_idx ON payments (customer_id, created_at);
