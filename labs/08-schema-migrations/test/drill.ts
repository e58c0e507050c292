/**
 * What both test files share: running one phase of the migration job, recording the index builds
 * Postgres saw, what v1 left in the database, and how names split.
 */
import type { LabContext, LockWait } from '../../../harness/testing/index.js';

/** The migration job may take this long for one phase (it includes waiting out a long transaction). */
export const JOB_TIMEOUT_MS = 60_000;
/** The bound on any one lock wait of a service query (v1 or v2). */
export const MAX_WAIT_MS = 1_000;
/** The most rows of users one transaction may write: it holds each of those row locks until it commits. */
export const MAX_ROWS_PER_TXN = 50_000;
export const SEEDED_USERS = 200_000;

export type Phase = 'expand' | 'migrate' | 'contract';

export interface PhaseRun {
  phase: Phase;
  ok: boolean;
  ms: number;
  error?: string;
}

/** The first lines of a job's failure: what threw, without the host's stack frames. */
function shortError(message: string): string {
  const lines = message.split('\n').filter((l) => !/^\s+at /.test(l) && l.trim() !== '');
  return lines.slice(0, 4).join(' | ').slice(0, 600);
}

/** Runs the tree's migration job (createWorker with settings.phase) and waits until it returns or fails. */
export async function runPhase(lab: LabContext, phase: Phase): Promise<PhaseRun> {
  const t = performance.now();
  try {
    const job = await lab.startWorkers({ settings: { phase }, startTimeoutMs: JOB_TIMEOUT_MS });
    await job.close();
    return { phase, ok: true, ms: Math.round(performance.now() - t) };
  } catch (e) {
    return { phase, ok: false, ms: Math.round(performance.now() - t), error: shortError((e as Error).message) };
  }
}

export const describeRuns = (runs: PhaseRun[]) =>
  runs
    .map((r) => `${r.phase} ${r.ok ? `done in ${(r.ms / 1000).toFixed(1)} s` : `FAILED after ${(r.ms / 1000).toFixed(1)} s: ${r.error}`}`)
    .join('; ');

/**
 * After the last v1 instance has stopped: waits (up to 5 s) until Postgres has no session named
 * users-api/v1 left, as a pipeline waits for the old instances to have terminated.
 */
export async function v1SessionsGone(lab: LabContext): Promise<void> {
  const until = performance.now() + 5_000;
  while (performance.now() < until) {
    const { rows } = await lab.db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'users-api/v1'`,
    );
    if (rows[0].n === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** "Ada Lovelace" → Ada / Lovelace; "Guido van Rossum" → Guido / van Rossum; "Plato" → Plato / "". */
export function splitName(name: string): { firstName: string; lastName: string } {
  const i = name.indexOf(' ');
  return i < 0 ? { firstName: name, lastName: '' } : { firstName: name.slice(0, i), lastName: name.slice(i + 1) };
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Guido'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'van Rossum', 'Thompson'];
/** The name schema.sql gives seeded user `id`. */
export const seededName = (id: number) => FIRST[id % 8]! + (id % 50 === 0 ? '' : ` ${LAST[Math.floor(id / 8) % 9]!}`);

/**
 * Fails the run early, in one clear line, when the test database is not the one v1 left: the
 * migration belongs in src/migrations.ts, not in src/schema.sql.
 */
export async function assertV1Database(lab: LabContext): Promise<void> {
  const { rows } = await lab.db.query(
    `SELECT array_agg(column_name::text ORDER BY column_name) AS cols, (SELECT count(*)::int FROM users) AS n
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users'`,
  );
  const cols: string[] = rows[0]?.cols ?? [];
  if (!cols.includes('name') || cols.includes('first_name') || rows[0]?.n !== SEEDED_USERS)
    throw new Error(
      `src/schema.sql must stay the database as v1 left it (users.name, no first_name, ${SEEDED_USERS} users); ` +
        `it has columns ${cols.join(', ')} and ${rows[0]?.n} users. v2's changes go in src/migrations.ts, which the rollout runs.`,
    );
}

/**
 * Records, in a schema the service cannot reach, every CREATE INDEX and ALTER TABLE that completes
 * in the test database, with the locks its transaction holds on users at that moment: an index
 * built while holding ShareLock on users (CREATE INDEX without CONCURRENTLY, or ALTER TABLE … ADD
 * UNIQUE / PRIMARY KEY) blocked every write to users for the whole build.
 */
export async function auditIndexBuilds(lab: LabContext): Promise<void> {
  await lab.db.query(`
    CREATE SCHEMA lab_audit;
    REVOKE ALL ON SCHEMA lab_audit FROM PUBLIC;
    CREATE TABLE lab_audit.ddl (tag text, query text, modes text[], at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE FUNCTION lab_audit.on_ddl() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
    BEGIN
      INSERT INTO lab_audit.ddl (tag, query, modes)
      SELECT tg_tag, left(current_query(), 300),
             (SELECT array_agg(l.mode::text) FROM pg_locks l
               WHERE l.pid = pg_backend_pid() AND l.granted AND l.locktype = 'relation' AND l.relation = to_regclass('public.users'));
    END $$;
    CREATE EVENT TRIGGER lab_audit_ddl ON ddl_command_end WHEN TAG IN ('CREATE INDEX', 'ALTER TABLE') EXECUTE FUNCTION lab_audit.on_ddl();
  `);
}

/** The DDL that completed while its transaction held ShareLock on users: an index build that blocked writes. */
export async function blockingIndexBuilds(lab: LabContext): Promise<{ tag: string; query: string; modes: string[] }[]> {
  const { rows } = await lab.db.query(`SELECT tag, query, modes FROM lab_audit.ddl WHERE 'ShareLock' = ANY (modes) ORDER BY at`);
  return rows;
}

/** v2's index: one on users whose first column is email, and whether Postgres can use it. */
export async function emailIndexes(lab: LabContext): Promise<{ name: string; valid: boolean; ready: boolean }[]> {
  const { rows } = await lab.db.query(
    `SELECT c.relname AS name, i.indisvalid AS valid, i.indisready AS ready
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = to_regclass('public.users')
        AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = to_regclass('public.users') AND attname = 'email')`,
  );
  return rows;
}

/** The columns of users now, and whether first_name is NOT NULL (attnotnull, or a validated CHECK (first_name IS NOT NULL)). */
export async function usersShape(lab: LabContext): Promise<{ columns: string[]; firstNameNotNull: boolean }> {
  const { rows } = await lab.db.query(
    `SELECT array_agg(a.attname::text ORDER BY a.attnum) AS columns,
            bool_or(a.attname = 'first_name' AND a.attnotnull) OR EXISTS (
              SELECT 1 FROM pg_constraint k
               WHERE k.conrelid = to_regclass('public.users') AND k.contype = 'c' AND k.convalidated
                 AND regexp_replace(pg_get_constraintdef(k.oid), '[()\\s]', '', 'g') = 'CHECKfirst_nameISNOTNULL') AS not_null
       FROM pg_attribute a WHERE a.attrelid = to_regclass('public.users') AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  return { columns: rows[0]?.columns ?? [], firstNameNotNull: rows[0]?.not_null === true };
}

/** Which rows of users each transaction wrote: the xmin of every row, counted. */
export async function rowsPerTransaction(lab: LabContext): Promise<Map<string, number>> {
  const { rows } = await lab.db.query(`SELECT xmin::text AS x, count(*)::int AS n FROM users GROUP BY 1`);
  return new Map(rows.map((r: { x: string; n: number }) => [r.x, r.n]));
}

export const describeWait = (w: LockWait) =>
  `${w.waitedMs} ms by ${w.applicationName || 'a session'} (${w.query.replace(/\s+/g, ' ').slice(0, 90)}) for ${w.mode} on ${w.relation ?? w.locktype}`;
