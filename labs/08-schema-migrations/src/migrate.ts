/**
 * The migration runner. It runs, in order, the steps of src/migrations.ts that belong to one phase
 * and have not run yet, and records each in `schema_migrations` once it has succeeded, so a job
 * that is run again carries on where it stopped.
 */
import pg from 'pg';

export const PHASES = ['expand', 'migrate', 'contract'] as const;
export type Phase = (typeof PHASES)[number];

export interface Migration {
  /** Recorded in schema_migrations; runs once. */
  id: string;
  /** When it runs: "expand" (only v1 serves), "migrate" (v1 and v2 serve), "contract" (every v1 instance is gone). */
  phase: Phase;
  /** SQL (one or more statements), or a function given a connected client (e.g. a loop of batches). */
  up: string | ((db: pg.ClientBase) => Promise<void>);
  /** Run the step inside one transaction with its bookkeeping (the default: true). */
  transaction?: boolean;
}

export interface MigrateOptions {
  databaseUrl: string;
  phase: Phase;
  migrations: readonly Migration[];
}

/** Runs the phase's pending steps; returns the ids it applied. */
export async function migrate({ databaseUrl, phase, migrations }: MigrateOptions): Promise<string[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const applied: string[] = [];
  try {
    // TODO: while a step waits for its lock, every query on that table queues behind it. What
    // should a step do when the lock does not come quickly?
    for (const m of migrations.filter((x) => x.phase === phase)) {
      const done = await db.query('SELECT 1 FROM schema_migrations WHERE id = $1', [m.id]);
      if (done.rowCount) continue;
      // TODO: not every statement may run inside a transaction (m.transaction).
      await db.query('BEGIN');
      try {
        if (typeof m.up === 'string') await db.query(m.up);
        else await m.up(db);
        await db.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
        await db.query('COMMIT');
      } catch (e) {
        await db.query('ROLLBACK').catch(() => undefined);
        throw Object.assign(e as Error, { message: `migration ${m.id} failed: ${(e as Error).message}` });
      }
      applied.push(m.id);
    }
  } finally {
    await db.end();
  }
  return applied;
}
