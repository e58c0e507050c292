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

-- Every provider event ever received, by its id. The primary key is the dedupe: of any number of
-- deliveries of one event, on any instance, exactly one inserts the row and gets to process it.
-- claimed_at is a lease: an event claimed by an instance that died is taken over after a while.
CREATE TABLE inbox (
  event_id     text        PRIMARY KEY,
  payload      jsonb       NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  claimed_at   timestamptz,
  processed_at timestamptz
);

CREATE INDEX inbox_pending_idx ON inbox (received_at) WHERE processed_at IS NULL;

-- The webhooks we send our subscriber (an outbox): written in the transaction that credits the
-- customer, so none is lost or sent for a credit that did not happen. payload is the exact body,
-- sent again byte for byte on every attempt. A delivery that used up its attempts stays 'failed',
-- for POST /deliveries/:id/replay.
CREATE TABLE deliveries (
  id              bigserial   PRIMARY KEY,
  event_id        text        NOT NULL UNIQUE,
  payload         text        NOT NULL,
  status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        int         NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
