-- Postcode lookup API. The harness applies this file to a template database, and every test file
-- gets a fresh copy of it.
CREATE TABLE api_keys (
  key        text PRIMARY KEY,
  owner      text NOT NULL,
  plan       text NOT NULL DEFAULT 'free',
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE postcodes (
  country text NOT NULL,
  code    text NOT NULL,
  place   text NOT NULL,
  lat     double precision NOT NULL,
  lon     double precision NOT NULL,
  PRIMARY KEY (country, code)
);

INSERT INTO postcodes (country, code, place, lat, lon) VALUES
  ('DE', '10115', 'Berlin Mitte', 52.5323, 13.3846),
  ('DE', '80331', 'München Altstadt', 48.1372, 11.5755),
  ('FR', '75001', 'Paris 1er Arrondissement', 48.8625, 2.3364),
  ('NL', '1012', 'Amsterdam Centrum', 52.3731, 4.8922),
  ('US', '10001', 'New York, NY', 40.7506, -73.9972),
  ('JP', '100-0001', 'Chiyoda, Tokyo', 35.6852, 139.7528);
