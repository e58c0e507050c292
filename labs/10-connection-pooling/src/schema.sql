-- The reporting database: customers, their orders, and the saved reports the dashboards refresh.
-- The harness applies this file to a template database, and every test file gets a fresh copy.
CREATE TABLE customers (
  id     int  PRIMARY KEY,
  name   text NOT NULL,
  region text NOT NULL
);

CREATE TABLE orders (
  id           bigserial   PRIMARY KEY,
  customer_id  int         NOT NULL REFERENCES customers (id),
  placed_at    timestamptz NOT NULL,
  amount_cents int         NOT NULL CHECK (amount_cents > 0),
  status       text        NOT NULL CHECK (status IN ('paid', 'refunded'))
);

CREATE INDEX orders_placed_at_idx ON orders (placed_at);

-- A report is a query the analytics team wrote and saved under a name; the dashboards ask for it by
-- name (GET /reports/:name) every few seconds. The service runs the SQL as it is stored.
CREATE TABLE saved_reports (
  name  text PRIMARY KEY CHECK (name ~ '^[a-z0-9-]+$'),
  title text NOT NULL,
  sql   text NOT NULL
);

INSERT INTO customers (id, name, region)
SELECT g, 'customer ' || g, (ARRAY['apac', 'eu', 'latam', 'us'])[1 + g % 4]
  FROM generate_series(1, 400) AS g;

INSERT INTO orders (customer_id, placed_at, amount_cents, status)
SELECT 1 + (g * 7919) % 400,
       timestamptz '2026-01-01 00:00:00+00' + (g % 90) * interval '1 day' + (g * 13 % 1440) * interval '1 minute',
       500 + (g * 37) % 20000,
       CASE WHEN g % 23 = 0 THEN 'refunded' ELSE 'paid' END
  FROM generate_series(1, 6000) AS g;

INSERT INTO saved_reports (name, title, sql) VALUES
  ('revenue-by-region', 'Paid revenue per region',
   'SELECT c.region, count(*)::int AS orders, sum(o.amount_cents)::bigint AS revenue_cents
      FROM orders o JOIN customers c ON c.id = o.customer_id
     WHERE o.status = ''paid''
     GROUP BY c.region ORDER BY c.region'),
  ('top-customers', 'The ten customers who paid the most',
   'SELECT c.id, c.name, sum(o.amount_cents)::bigint AS paid_cents
      FROM orders o JOIN customers c ON c.id = o.customer_id
     WHERE o.status = ''paid''
     GROUP BY c.id, c.name ORDER BY paid_cents DESC, c.id LIMIT 10'),
  ('refund-rate-by-month', 'Share of orders refunded, per month',
   'SELECT date_trunc(''month'', placed_at AT TIME ZONE ''UTC'')::date AS month,
           round(100.0 * count(*) FILTER (WHERE status = ''refunded'') / count(*), 2) AS refunded_pct
      FROM orders GROUP BY 1 ORDER BY 1');
