/**
 * v2's schema change as expand / migrate / contract, as node-pg-migrate migrations. Each step
 * names the phase of the rollout it belongs to: "expand" runs while only v1 serves, "migrate"
 * while v1 and v2 both serve, "contract" once every v1 instance is gone.
 */
import type { MigrationBuilder } from 'node-pg-migrate';
import type { Migration } from './migrate.js';

const BATCH = 5_000;

export const migrations: Migration[] = [
  {
    id: '002_add_name_columns',
    phase: 'expand',
    up: (pgm) => {
      pgm.addColumns('users', { first_name: { type: 'text' }, last_name: { type: 'text' } }, { ifNotExists: true });
    },
  },
  {
    id: '003_sync_names_trigger',
    phase: 'expand',
    up: (pgm) => {
      pgm.sql(`
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
        $fn$`);
      pgm.sql('DROP TRIGGER IF EXISTS users_sync_names ON users');
      pgm.createTrigger('users', 'users_sync_names', {
        when: 'BEFORE',
        operation: ['INSERT', 'UPDATE'],
        level: 'ROW',
        function: 'users_sync_names',
      });
    },
  },
  {
    // pgm.db runs at once, outside any transaction (noTransaction): each batch commits on its own.
    id: '004_backfill_names',
    phase: 'expand',
    up: async (pgm: MigrationBuilder) => {
      pgm.noTransaction();
      const [{ max }] = await pgm.db.select('SELECT coalesce(max(id), 0)::bigint AS max FROM users');
      for (let from = 0; from < Number(max); from += BATCH)
        await pgm.db.query(
          `UPDATE users SET first_name = split_part(name, ' ', 1), last_name = substr(name, strpos(name || ' ', ' ') + 1)
            WHERE id > ${from} AND id <= ${from + BATCH} AND first_name IS NULL`,
        );
    },
  },
  {
    id: '005_users_email_index',
    phase: 'expand',
    up: async (pgm: MigrationBuilder) => {
      pgm.noTransaction();
      const [left] = await pgm.db.select(`SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('public.users_email_idx')`);
      if (left && !left.indisvalid) await pgm.db.query('DROP INDEX CONCURRENTLY users_email_idx');
      pgm.addIndex('users', 'email', { name: 'users_email_idx', concurrently: true, ifNotExists: true });
    },
  },
  {
    id: '006_first_name_check',
    phase: 'expand',
    up: (pgm) => pgm.sql('ALTER TABLE users ADD CONSTRAINT users_first_name_not_null CHECK (first_name IS NOT NULL) NOT VALID'),
  },
  {
    id: '007_validate_first_name',
    phase: 'migrate',
    up: (pgm) => pgm.sql('ALTER TABLE users VALIDATE CONSTRAINT users_first_name_not_null'),
  },
  {
    id: '008_first_name_not_null',
    phase: 'contract',
    up: (pgm) => {
      pgm.alterColumn('users', 'first_name', { notNull: true });
      pgm.alterColumn('users', 'last_name', { default: '' });
      pgm.dropConstraint('users', 'users_first_name_not_null');
    },
  },
  {
    id: '009_drop_name',
    phase: 'contract',
    up: (pgm) => {
      pgm.dropTrigger('users', 'users_sync_names', { ifExists: true });
      pgm.dropFunction('users_sync_names', [], { ifExists: true });
      pgm.dropColumn('users', 'name', { ifExists: true });
    },
  },
];
