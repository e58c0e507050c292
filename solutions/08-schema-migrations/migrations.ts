/**
 * v2's schema change as expand / migrate / contract. Each step names the phase of the rollout it
 * belongs to (see Migration in src/migrate.ts): "expand" runs while only v1 serves, "migrate" while
 * v1 and v2 both serve, "contract" once every v1 instance is gone. A step is SQL, or a function
 * given a client.
 *
 * v2 needs: `first_name` (NOT NULL) and `last_name` holding the first word of the name and the rest
 * ("Guido van Rossum" → Guido / van Rossum, "Plato" → Plato / ''), an index on `users (email)`,
 * and in the end no `name` column.
 */
import type pg from 'pg';
import type { Migration } from './migrate.js';

/** Rows per backfill transaction: each batch holds its row locks for a few milliseconds. */
const BATCH = 5_000;

async function backfillNames(db: pg.ClientBase): Promise<void> {
  const { rows } = await db.query('SELECT coalesce(max(id), 0)::bigint AS max FROM users');
  const max = Number(rows[0].max);
  for (let from = 0; from < max; from += BATCH) {
    // Each statement is its own transaction (the step runs outside BEGIN). Rows written since the
    // trigger exists already have their names; the WHERE skips them.
    await db.query(
      `UPDATE users SET first_name = split_part(name, ' ', 1), last_name = substr(name, strpos(name || ' ', ' ') + 1)
        WHERE id > $1 AND id <= $2 AND first_name IS NULL`,
      [from, from + BATCH],
    );
  }
}

async function buildEmailIndex(db: pg.ClientBase): Promise<void> {
  // A CREATE INDEX CONCURRENTLY that failed half-way leaves an INVALID index: drop it and build again.
  const { rows } = await db.query(`SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass('public.users_email_idx')`);
  if (rows[0]?.indisvalid) return;
  if (rows[0]) await db.query('DROP INDEX CONCURRENTLY IF EXISTS users_email_idx');
  await db.query('CREATE INDEX CONCURRENTLY users_email_idx ON users (email)');
}

export const migrations: Migration[] = [
  // Expand: only additions v1 does not see.
  {
    id: '002_add_name_columns',
    phase: 'expand',
    up: 'ALTER TABLE users ADD COLUMN IF NOT EXISTS first_name text, ADD COLUMN IF NOT EXISTS last_name text',
  },
  {
    // Keeps both shapes in step for as long as both versions write: v1 writes name, v2 writes
    // first_name / last_name, and each must read what the other wrote.
    id: '003_sync_names_trigger',
    phase: 'expand',
    up: `
      CREATE OR REPLACE FUNCTION users_sync_names() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' AND NEW.first_name IS NULL
           OR TG_OP = 'UPDATE' AND NEW.name IS DISTINCT FROM OLD.name THEN
          NEW.first_name := split_part(NEW.name, ' ', 1);
          NEW.last_name := substr(NEW.name, strpos(NEW.name || ' ', ' ') + 1);
        ELSIF NEW.name IS NULL
           OR NEW.first_name IS DISTINCT FROM split_part(NEW.name, ' ', 1)
           OR coalesce(NEW.last_name, '') IS DISTINCT FROM substr(NEW.name, strpos(NEW.name || ' ', ' ') + 1) THEN
          NEW.name := NEW.first_name || CASE WHEN coalesce(NEW.last_name, '') = '' THEN '' ELSE ' ' || NEW.last_name END;
        END IF;
        RETURN NEW;
      END
      $fn$;
      DROP TRIGGER IF EXISTS users_sync_names ON users;
      CREATE TRIGGER users_sync_names BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_sync_names();
    `,
  },
  { id: '004_backfill_names', phase: 'expand', transaction: false, up: backfillNames },
  { id: '005_users_email_index', phase: 'expand', transaction: false, up: buildEmailIndex },
  {
    // Checked for new rows from now on; a moment of lock, no scan.
    id: '006_first_name_check',
    phase: 'expand',
    up: 'ALTER TABLE users ADD CONSTRAINT users_first_name_not_null CHECK (first_name IS NOT NULL) NOT VALID',
  },
  // Migrate: the scan, under a lock that lets reads and writes go on.
  { id: '007_validate_first_name', phase: 'migrate', up: 'ALTER TABLE users VALIDATE CONSTRAINT users_first_name_not_null' },
  // Contract: only once no v1 is connected (the runner waits for that).
  {
    // With the validated CHECK, SET NOT NULL needs no scan of its own.
    id: '008_first_name_not_null',
    phase: 'contract',
    up: `
      ALTER TABLE users ALTER COLUMN first_name SET NOT NULL, ALTER COLUMN last_name SET DEFAULT '';
      ALTER TABLE users DROP CONSTRAINT users_first_name_not_null;
    `,
  },
  {
    id: '009_drop_name',
    phase: 'contract',
    up: `
      DROP TRIGGER IF EXISTS users_sync_names ON users;
      DROP FUNCTION IF EXISTS users_sync_names();
      ALTER TABLE users DROP COLUMN IF EXISTS name;
    `,
  },
];
