/** Figures Postgres keeps about the test database: the referee for "how much work did the DB do". */
import type pg from 'pg';
import { sleep } from './concurrency.js';

export interface DatabaseFigures {
  deadlocks: number;
  xactCommit: number;
  xactRollback: number;
  conflicts: number;
  numbackends: number;
  /** Sessions that ended in this database, and of those, the ones whose client vanished without saying goodbye (no Terminate: a process that exited with its pool open). */
  sessions: number;
  sessionsAbandoned: number;
}

/** One lock wait Postgres showed: a session that asked for a lock and waited for it. */
export interface LockWait {
  pid: number;
  applicationName: string;
  /** The statement that waited. */
  query: string;
  /** pg_locks.locktype and mode: e.g. relation / AccessExclusiveLock, transactionid / ShareLock. */
  locktype: string;
  mode: string;
  /** The table (or index) waited for, when the lock is on one. */
  relation: string | null;
  /**
   * Every session it was seen waiting behind (pg_blocking_pids, over all samples of this wait): the
   * last sample may come as the holder commits, when Postgres lists no blocker any more.
   */
  blockedBy: number[];
  /** How long it had waited when last seen (from pg_locks.waitstart): a lower bound, within one sampling interval. */
  waitedMs: number;
}

export interface LockReport {
  /** The longest wait seen, in ms (0 when none). */
  longestMs: number;
  longest?: LockWait;
  /** Every distinct wait seen (one per session and wait start), longest first. */
  waits: LockWait[];
  /** How many times pg_locks was read, and how far apart at most (ms): the resolution of the figures. */
  samples: number;
  maxGapMs: number;
}

export interface LockWatchOptions {
  /** How often to read pg_locks (default every 50 ms). */
  everyMs?: number;
  /** Only waits by sessions with this application_name (a service's appName); default every session but the harness's. */
  applicationName?: string;
}

/** A running watch over lock waits in the test database; stop() returns what it saw. */
export interface LockWatch {
  stop(): Promise<LockReport>;
}

export class PgStats {
  constructor(private readonly pool: pg.Pool) {}

  /** pg_stat_database for this database. Counters are flushed by each backend; see settle(). */
  async database(): Promise<DatabaseFigures> {
    const c = await this.pool.connect();
    try {
      await c.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await c.query(
        `SELECT deadlocks, xact_commit, xact_rollback, conflicts, numbackends, sessions, sessions_abandoned
           FROM pg_stat_database WHERE datname = current_database()`,
      );
      const r = rows[0];
      return {
        deadlocks: Number(r.deadlocks),
        xactCommit: Number(r.xact_commit),
        xactRollback: Number(r.xact_rollback),
        conflicts: Number(r.conflicts),
        numbackends: Number(r.numbackends),
        sessions: Number(r.sessions),
        sessionsAbandoned: Number(r.sessions_abandoned),
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
   * Watches lock waits in this database until stop(): every `everyMs` it reads Postgres's own
   * record of sessions waiting for a lock (pg_locks where not granted, with waitstart, the moment
   * the wait began) and keeps, per wait, how long it had lasted when last seen. The longest wait is
   * Postgres's figure, exact to within one sampling interval (a wait shorter than that may go
   * unseen: watch for waits that matter, e.g. over 100 ms).
   */
  watchLocks(opts: LockWatchOptions = {}): LockWatch {
    const everyMs = opts.everyMs ?? 50;
    const seen = new Map<string, LockWait>();
    let samples = 0;
    let maxGapMs = 0;
    let last = performance.now();
    let running = true;
    const sample = async () => {
      const { rows } = await this.pool.query(
        `SELECT l.pid, a.application_name, a.query, l.locktype, l.mode,
                CASE WHEN l.relation IS NULL THEN NULL ELSE (SELECT c.relname::text FROM pg_class c WHERE c.oid = l.relation) END AS relation,
                l.waitstart::text AS waitstart,
                floor(extract(epoch FROM clock_timestamp() - l.waitstart) * 1000)::int AS waited_ms,
                pg_blocking_pids(l.pid) AS blocked_by
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE NOT l.granted AND l.waitstart IS NOT NULL AND a.datname = current_database() AND a.pid <> pg_backend_pid()
            AND ($1::text IS NULL OR a.application_name = $1)
            AND ($1::text IS NOT NULL OR a.application_name NOT LIKE 'lab-harness%')`,
        [opts.applicationName ?? null],
      );
      for (const r of rows) {
        const key = `${r.pid}@${r.waitstart}`;
        const prev = seen.get(key);
        const blockedBy = [...new Set<number>([...(prev?.blockedBy ?? []), ...((r.blocked_by as number[] | null) ?? [])])];
        if (prev && prev.waitedMs >= r.waited_ms) {
          prev.blockedBy = blockedBy;
          continue;
        }
        seen.set(key, {
          pid: r.pid,
          applicationName: r.application_name,
          query: r.query,
          locktype: r.locktype,
          mode: r.mode,
          relation: r.relation,
          blockedBy,
          waitedMs: Math.max(0, r.waited_ms),
        });
      }
      const now = performance.now();
      if (samples > 0) maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
      samples++;
    };
    const loop = (async () => {
      while (running) {
        const t = performance.now();
        await sample().catch(() => undefined);
        await sleep(Math.max(0, everyMs - (performance.now() - t)));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        await sample().catch(() => undefined);
        const waits = [...seen.values()].sort((a, b) => b.waitedMs - a.waitedMs);
        return { longestMs: waits[0]?.waitedMs ?? 0, longest: waits[0], waits, samples, maxGapMs: Math.round(maxGapMs) };
      },
    };
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
