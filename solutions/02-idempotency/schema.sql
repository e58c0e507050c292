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

-- One row per (customer, Idempotency-Key). The primary key is what makes claiming a key atomic:
-- of two requests inserting the same key at once, exactly one gets the row.
-- response_status IS NULL means "claimed, still in flight".
CREATE TABLE idempotency_keys (
  customer_id     text NOT NULL,
  key             text NOT NULL,
  request_hash    text NOT NULL,
  response_status int,
  response_body   jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  completed_at    timestamptz,
  PRIMARY KEY (customer_id, key)
);

-- A finished key replays for the setting idempotencyRetentionSeconds (24 hours, the retry window
-- promised to clients) after completed_at; past it the key is new again, and a nightly job deletes it.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
