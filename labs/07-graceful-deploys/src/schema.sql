-- The harness applies this file to a template database; every test file gets a fresh copy.
CREATE TABLE quotes (
  id    int  PRIMARY KEY,
  price_cents int NOT NULL
);

INSERT INTO quotes (id, price_cents) VALUES (1, 1999), (2, 4500);
