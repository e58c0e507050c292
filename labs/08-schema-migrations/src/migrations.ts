/**
 * v2's schema change, as one step. Each step names the phase of the rollout it belongs to (see
 * Migration in src/migrate.ts): "expand" runs while only v1 serves, "migrate" while v1 and v2 both
 * serve, "contract" once every v1 instance is gone. A step is SQL, or a function given a client.
 *
 * v2 needs: `first_name` (NOT NULL) and `last_name` holding the first word of the name and the rest
 * ("Guido van Rossum" → Guido / van Rossum, "Plato" → Plato / ''), an index on `users (email)`,
 * and in the end no `name` column.
 */
import type { Migration } from './migrate.js';

export const migrations: Migration[] = [
  // TODO: v1 instances keep serving while this runs, and afterwards, until the rollout has replaced
  // them: they read and write `name`. And `users` has 200k rows, written all the time.
  {
    id: '002_split_name',
    phase: 'expand',
    up: `
      ALTER TABLE users RENAME COLUMN name TO first_name;
      ALTER TABLE users ADD COLUMN last_name text NOT NULL DEFAULT '';
      UPDATE users SET last_name = substr(first_name, strpos(first_name || ' ', ' ') + 1),
                       first_name = split_part(first_name, ' ', 1);
      CREATE INDEX users_email_idx ON users (email);
    `,
  },
];
