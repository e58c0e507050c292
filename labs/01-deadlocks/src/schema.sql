-- Ledger schema. The harness applies this file to a template database, and every test file gets a
-- fresh copy of it.
CREATE TABLE accounts (
  id            bigint PRIMARY KEY,
  owner         text   NOT NULL,
  balance_cents bigint NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE transfers (
  id           bigserial PRIMARY KEY,
  from_id      bigint NOT NULL REFERENCES accounts (id),
  to_id        bigint NOT NULL REFERENCES accounts (id),
  amount_cents bigint NOT NULL CHECK (amount_cents > 0),
  created_at   timestamptz NOT NULL DEFAULT now()
);
