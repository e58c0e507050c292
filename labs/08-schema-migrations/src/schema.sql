-- The database as v1 left it. The harness applies this file to a template database; every test
-- file gets a fresh copy. v2's changes are not made here: they are the migration (src/migrations.ts).
CREATE TABLE users (
  id         bigserial   PRIMARY KEY,
  name       text        NOT NULL,
  email      text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- About 200k users, as production has. Every 50th has a one-word name; some surnames have two
-- words ("van Rossum"), so "first word / the rest" is the split v2 uses.
INSERT INTO users (name, email)
SELECT (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Guido'])[1 + i % 8]
       || CASE WHEN i % 50 = 0 THEN ''
               ELSE ' ' || (ARRAY['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'van Rossum', 'Thompson'])[1 + (i / 8) % 9]
          END,
       'user' || i || '@example.com'
  FROM generate_series(1, 200000) AS i;

-- The migrations that built v1's schema; the runner (src/migrate.ts) records v2's steps here too.
CREATE TABLE schema_migrations (
  id         text        PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO schema_migrations (id) VALUES ('001_users');

ANALYZE users;
