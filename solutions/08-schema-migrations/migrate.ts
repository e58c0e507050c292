/**
 * The migration runner. It runs, in order, the steps of src/migrations.ts that belong to one phase
 * and have not run yet, and records each in `schema_migrations` once it has succeeded, so a job
 * that is run again carries on where it stopped.
 *
 * Every statement runs with a short lock_timeout: a step that cannot get its lock at once gives up
 * after LOCK_TIMEOUT_MS, instead of waiting in the lock queue with every later query on the table
 * queued behind it, and is tried again after a pause. Steps marked `transaction: false` (CREATE
 * INDEX CONCURRENTLY, a backfill that commits batch by batch) run outside a transaction block, so
 * they must be safe to run again from the start.
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

/** Well under the 1 s any query may wait behind the migration. */
export const LOCK_TIMEOUT_MS = 300;
/** Tries per step before the job gives up (about 40 s of trying). */
const MAX_ATTEMPTS = 60;
/** Before contracting: how long to wait for the old version's sessions to go. */
const OLD_VERSION_WAIT_MS = 45_000;
/** The application_name the version being replaced gives its sessions. */
const OLD_VERSION_APP = 'users-api/v1';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const LOCK_NOT_AVAILABLE = '55P03';

/** Runs the phase's pending steps; returns the ids it applied. */
export async function migrate({ databaseUrl, phase, migrations }: MigrateOptions): Promise<string[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const applied: string[] = [];
  try {
    await db.query(`SET lock_timeout = '${LOCK_TIMEOUT_MS}ms'`);
    if (phase === 'contract') await waitForOldVersion(db);
    for (const m of migrations.filter((x) => x.phase === phase)) {
      const done = await db.query('SELECT 1 FROM schema_migrations WHERE id = $1', [m.id]);
      if (done.rowCount) continue;
      await withRetries(m.id, () => runStep(db, m));
      applied.push(m.id);
    }
  } finally {
    await db.end();
  }
  return applied;
}

async function runStep(db: pg.Client, m: Migration): Promise<void> {
  const run = async () => (typeof m.up === 'string' ? void (await db.query(m.up)) : m.up(db));
  if (m.transaction === false) {
    await run();
    await db.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
    return;
  }
  await db.query('BEGIN');
  try {
    await run();
    await db.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
    await db.query('COMMIT');
  } catch (e) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Tries again, after a growing pause, whenever the step gave up waiting for a lock. */
async function withRetries(id: string, step: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.code !== LOCK_NOT_AVAILABLE || attempt >= MAX_ATTEMPTS)
        throw Object.assign(err, { message: `migration ${id} failed (attempt ${attempt}): ${err.message}` });
      console.log(`migration ${id}: no lock within ${LOCK_TIMEOUT_MS} ms (attempt ${attempt}), trying again`);
      await sleep(Math.min(1_000, 100 * attempt) + Math.random() * 100);
    }
  }
}

/** Contract drops what the old version uses: only once none of its sessions is left. */
async function waitForOldVersion(db: pg.Client): Promise<void> {
  const deadline = Date.now() + OLD_VERSION_WAIT_MS;
  for (;;) {
    const { rows } = await db.query(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
      [OLD_VERSION_APP],
    );
    if (rows[0].n === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `contract refused: ${rows[0].n} sessions of ${OLD_VERSION_APP} are still connected after ${OLD_VERSION_WAIT_MS / 1000} s`,
      );
    console.log(`contract: waiting for ${rows[0].n} ${OLD_VERSION_APP} sessions to go`);
    await sleep(250);
  }
}
