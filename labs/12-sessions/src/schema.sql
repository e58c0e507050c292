-- The harness applies this file to a template database; every test file gets a fresh copy.
-- Passwords are scrypt hashes (N = 1024, kept cheap so that tests log in quickly; production uses
-- the default cost or more). alice: correct-horse-7, bob: battery-staple-2, carol: tr0ub4dor-3.
CREATE TABLE users (
  username      text PRIMARY KEY,
  display_name  text NOT NULL,
  password_hash text NOT NULL
);

INSERT INTO users (username, display_name, password_hash) VALUES
  ('alice', 'Alice Martin', 'scrypt$1024$ff948efb3434edec65830afa57029e4a$44c6d103a864e47470262504aa362f6fab458ac63473b3522d7be76dc3372751'),
  ('bob',   'Bob Okafor',   'scrypt$1024$73f9534bed2a2ce093ef20dc90685546$4c9ef9ae10b5111141b153753c6cf5aafd2f432ecf1e0b7dc16b8151da1dc866'),
  ('carol', 'Carol Nguyen', 'scrypt$1024$74b3cf4763e3105ff75611c698be7e04$0712db95b36944f7759a21cd34039501bee1e02f7102be3e966fecd74de64b64');
