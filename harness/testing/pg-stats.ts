/** Figures Postgres keeps about the test database: the referee for "how much work did the DB do". */
import type pg from 'pg';
import { sleep } from './concurrency.js';

export interface DatabaseFigures {
  deadlocks: number;
  xactCommit: number;
  xactRollback: number;
  conflicts: number;
  numbackends: number;
}

export class PgStats {
  constructor(private readonly pool: pg.Pool) {}

  /** pg_stat_database for this database. Counters are flushed by each backend; see settle(). */
  async database(): Promise<DatabaseFigures> {
    const c = await this.pool.connect();
    try {
      await c.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await c.query(
        `SELECT deadlocks, xact_commit, xact_rollback, conflicts, numbackends
           FROM pg_stat_database WHERE datname = current_database()`,
      );
      const r = rows[0];
      return {
        deadlocks: Number(r.deadlocks),
        xactCommit: Number(r.xact_commit),
        xactRollback: Number(r.xact_rollback),
        conflicts: Number(r.conflicts),
        numbackends: Number(r.numbackends),
      };
    } finally {
      c.release();
    }
  }

  /** Sessions connected to this database other than the harness's own pool. */
  async activity(): Promise<{ pid: number; state: string | null; query: string; application_name: string }[]> {
    const { rows } = await this.pool.query(
      `SELECT pid, state, query, application_name FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    return rows;
  }

  /**
   * Waits until the sessions of a stopped service have left this database. Backends flush their
   * statistics when they exit, so database() is exact afterwards. Without a service, waits for
   * every session but the harness's own.
   */
  async settle(service?: { appName: string }, timeoutMs = 5_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
            AND ($1::text IS NULL OR application_name = $1)
            AND ($1::text IS NOT NULL OR application_name NOT LIKE 'lab-harness%')`,
        [service?.appName ?? null],
      );
      if (rows[0].n === 0 || Date.now() > end) break;
      await sleep(25);
    }
    await sleep(50);
  }

  /**
   * How many times statements matching `pattern` (a SQL ILIKE pattern, e.g. '%FROM products%')
   * ran in this database, according to pg_stat_statements.
   */
  async statementCalls(pattern: string): Promise<number> {
    const { rows } = await this.pool.query(
      `SELECT coalesce(sum(calls), 0)::int AS calls FROM pg_stat_statements s
         JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = current_database() AND s.query ILIKE $1 AND s.query NOT ILIKE '%pg_stat_statements%'`,
      [pattern],
    );
    return rows[0].calls;
  }
}
