-- The wallet service: a customer's balance is the sum of their credits. Each payment the provider
-- reports (a payment.succeeded webhook) becomes one credit. The harness applies this file to a
-- template database, and every test file gets a fresh copy of it.
CREATE TABLE credits (
  id                bigserial   PRIMARY KEY,
  customer_id       text        NOT NULL,
  amount_cents      bigint      NOT NULL CHECK (amount_cents > 0),
  provider_event_id text        NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX credits_customer_idx ON credits (customer_id);

-- TODO: the provider delivers every event at least once, and retries whatever it does not see
-- acknowledged in time. Nothing here remembers which events were received, and nothing keeps the
-- webhooks we send our own subscribers.
