-- Profiles schema. The harness applies this file to a template database; every test file gets a
-- fresh copy of it on the primary, and the streaming replica replays it from there.
CREATE TABLE profiles (
  id           text PRIMARY KEY,
  display_name text NOT NULL,
  bio          text NOT NULL DEFAULT '',
  updated_at   timestamptz NOT NULL DEFAULT now()
);
