/**
 * The migration runner, on node-pg-migrate. Its runner applies, in order, the steps of one phase
 * that its `pgmigrations` table does not list yet, each in its own transaction unless the step calls
 * pgm.noTransaction(), under its advisory lock (one job at a time).
 *
 * The steps live in code (src/migrations.ts), not in a folder of files: a loader strategy hands
 * them to the runner for the one file it is pointed at. Every session of the job has
 * lock_timeout set, and the whole run is tried again after a lock timeout: the step that gave up
 * was rolled back, the ones before it are recorded, so the retry carries on where it stopped.
 */
import { basename, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner, type MigrationBuilder } from 'node-pg-migrate';
import pg from 'pg';

export const PHASES = ['expand', 'migrate', 'contract'] as const;
export type Phase = (typeof PHASES)[number];

export interface Migration {
  /** Recorded in pgmigrations; runs once. */
  id: string;
  /** When it runs: "expand" (only v1 serves), "migrate" (v1 and v2 serve), "contract" (every v1 instance is gone). */
  phase: Phase;
  /** node-pg-migrate's up(pgm). */
  up: (pgm: MigrationBuilder) => void | Promise<void>;
}

export interface MigrateOptions {
  databaseUrl: string;
  phase: Phase;
  migrations: readonly Migration[];
}

export const LOCK_TIMEOUT_MS = 300;
const MAX_ATTEMPTS = 60;
const OLD_VERSION_WAIT_MS = 45_000;
const OLD_VERSION_APP = 'users-api/v1';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** This compiled file: the one "migration file" the runner lists; the loader below supplies the steps. */
const self = fileURLToPath(import.meta.url);

export async function migrate({ databaseUrl, phase, migrations }: MigrateOptions): Promise<string[]> {
  if (phase === 'contract') await waitForOldVersion(databaseUrl);
  const steps = migrations.filter((m) => m.phase === phase);
  if (steps.length === 0) return [];
  for (let attempt = 1; ; attempt++) {
    try {
      const ran = await runner({
        databaseUrl: { connectionString: databaseUrl, options: `-c lock_timeout=${LOCK_TIMEOUT_MS}` },
        dir: dirname(self),
        ignorePattern: `(?!${basename(self).replace(/\./g, '\\.')}$).*`,
        migrationLoaderStrategies: [
          { extensions: [extname(self)], loader: async () => steps.map((m) => ({ id: m.id, filePaths: [self], actions: { up: m.up } })) },
        ],
        migrationsTable: 'pgmigrations',
        direction: 'up',
        checkOrder: false,
        singleTransaction: false,
        advisoryLockMode: 'wait',
        log: (msg: string) => console.log(msg),
      });
      return ran.map((r) => r.name);
    } catch (e) {
      const err = e as Error & { code?: string };
      if (!(err.code === '55P03' || /lock timeout/.test(err.message)) || attempt >= MAX_ATTEMPTS) throw err;
      console.log(`migration ${phase}: no lock within ${LOCK_TIMEOUT_MS} ms (attempt ${attempt}), trying again`);
      await sleep(Math.min(1_000, 100 * attempt) + Math.random() * 100);
    }
  }
}

/** Contract drops what the old version uses: only once none of its sessions is left. */
async function waitForOldVersion(databaseUrl: string): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const deadline = Date.now() + OLD_VERSION_WAIT_MS;
    for (;;) {
      const { rows } = await db.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
        [OLD_VERSION_APP],
      );
      if (rows[0].n === 0) return;
      if (Date.now() > deadline) throw new Error(`contract refused: ${rows[0].n} sessions of ${OLD_VERSION_APP} are still connected`);
      await sleep(250);
    }
  } finally {
    await db.end();
  }
}
