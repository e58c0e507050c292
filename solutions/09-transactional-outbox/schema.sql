-- The orders service's tables and shipping's, in one database here (in production each service has
-- its own; shipping learns of orders only from the stream). The harness applies this file to a
-- template database; every test file gets a fresh copy. The tests read orders (id, status) and
-- shipments (order_id, status): keep those columns and statuses. Add tables and columns as the fix
-- needs them.

-- ── orders service ──────────────────────────────────────────────────────────────────────────────
CREATE TABLE products (
  sku   text PRIMARY KEY,
  stock int  NOT NULL
);

-- Stock is checked when a transaction commits, not per statement: an order may reserve its lines in
-- any order, and the warehouse's import may pass through negative stock inside its own transaction.
-- An order that would leave a product below zero fails at COMMIT (check_violation, 23514).
CREATE FUNCTION stock_not_negative() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT stock FROM products WHERE sku = NEW.sku) < 0 THEN
    RAISE EXCEPTION 'out of stock: %', NEW.sku USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER stock_not_negative AFTER UPDATE ON products
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stock_not_negative();

CREATE TABLE orders (
  id         bigserial   PRIMARY KEY,
  customer   text        NOT NULL,
  sku        text        NOT NULL REFERENCES products,
  quantity   int         NOT NULL CHECK (quantity > 0),
  status     text        NOT NULL DEFAULT 'placed' CHECK (status IN ('placed', 'cancelled')),
  -- 1 when placed, one more with every change: events carry it, so shipping can tell old from new.
  version    int         NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Events committed with the change they announce, waiting for the relay to publish them. A row
-- leaves only once Redis has taken its event.
CREATE TABLE outbox (
  id         bigserial   PRIMARY KEY,
  event_id   uuid        NOT NULL DEFAULT gen_random_uuid(),
  type       text        NOT NULL,
  payload    jsonb       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- ── shipping service ────────────────────────────────────────────────────────────────────────────
-- booked: the carrier has it; cancelled: the order was cancelled, nothing leaves the warehouse.
-- One shipment per order; version is that of the newest event applied to it.
CREATE TABLE shipments (
  id        bigserial   PRIMARY KEY,
  order_id  bigint      NOT NULL UNIQUE,
  sku       text        NOT NULL,
  quantity  int         NOT NULL,
  status    text        NOT NULL CHECK (status IN ('booked', 'cancelled')),
  version   int         NOT NULL,
  booked_at timestamptz NOT NULL DEFAULT now()
);

-- Every event shipping has applied, recorded in the transaction that applied it: a copy of an
-- event (at-least-once delivery) finds its id here and changes nothing.
CREATE TABLE processed_events (
  event_id     uuid        PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);
