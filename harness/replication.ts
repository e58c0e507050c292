/**
 * The test side of replication: what a test worker needs to use a streaming replica that the
 * harness started (see replica.ts). Kept apart from replica.ts so that test workers do not load
 * Testcontainers.
 */
import pg from 'pg';
import { SCHEMA_ROLE } from './databases.js';
import type { PgEndpoint } from './endpoints.js';

/** How late the replica applies each commit. Tests may rely on it: a read sooner than this after a write cannot see it. */
export const REPLICA_APPLY_DELAY_MS = 500;

/**
 * Waits until a database created on the primary exists on the replica (CREATE DATABASE replays with
 * the apply delay). `handedOver`: and until its objects belong to the service's role there too
 * (databases.ts hands them over right after creating it; the service reads them on the replica).
 */
export async function waitForDatabase(
  replica: PgEndpoint,
  name: string,
  { timeoutMs = 30_000, handedOver = false }: { timeoutMs?: number; handedOver?: boolean } = {},
): Promise<void> {
  const c = new pg.Client({
    host: replica.host,
    port: replica.port,
    user: replica.user,
    password: replica.password,
    database: replica.database,
    application_name: 'lab-harness',
  });
  await c.connect();
  try {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount && (!handedOver || (await handedOverOn(replica, name)))) return;
      if (Date.now() > end) {
        const { rows } = await c.query('SELECT status FROM pg_stat_wal_receiver');
        throw new Error(
          `database ${name} did not reach the replica within ${timeoutMs / 1000} s ` +
            `(WAL receiver: ${rows[0]?.status ?? 'not running'}): replication from the primary is broken`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Does nothing in this database on the replica belong to the template's schema role any more? */
async function handedOverOn(replica: PgEndpoint, name: string): Promise<boolean> {
  const c = new pg.Client({ ...replica, database: name, application_name: 'lab-harness' });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = $1) AS done`,
      [SCHEMA_ROLE],
    );
    return rows[0].done === true;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A WAL position ('16/B374D848') as a number of bytes. */
export function lsnToBigInt(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn);
  if (!m) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt('0x' + m[1]) << 32n) + BigInt('0x' + m[2]);
}

const XLOG_BLCKSZ = 8192n;
const WAL_SEGMENT = 16n * 1024n * 1024n;

/**
 * Has a replica that replayed up to `replayed` replayed everything before `target`, an insert
 * position? pg_current_wal_insert_lsn() reports a position just past a page header when the last
 * record ended exactly on a page boundary, while replay stops at the boundary itself.
 */
export function replayedPast(replayed: string, target: string): boolean {
  const r = lsnToBigInt(replayed);
  let t = lsnToBigInt(target);
  if (t % WAL_SEGMENT === 40n) t -= 40n;
  else if (t % XLOG_BLCKSZ === 24n) t -= 24n;
  return r >= t;
}

/** What a test can ask about replication between the test database's primary and its replica. */
export class ReplicationProbe {
  constructor(
    private readonly primary: pg.Pool,
    private readonly replica: pg.Pool,
    /** recovery_min_apply_delay of the replica, in ms. */
    readonly applyDelayMs = REPLICA_APPLY_DELAY_MS,
  ) {}

  /** The primary's current WAL insert position. */
  async primaryLsn(): Promise<string> {
    const { rows } = await this.primary.query('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    return rows[0].lsn;
  }

  /** How far the replica has replayed (pg_last_wal_replay_lsn()). */
  async replayLsn(): Promise<string> {
    const { rows } = await this.replica.query('SELECT pg_last_wal_replay_lsn()::text AS lsn');
    if (!rows[0].lsn) throw new Error('the replica reports no replay position: it is not a standby');
    return rows[0].lsn;
  }

  /**
   * Returns once the replica has replayed every transaction the primary committed before this
   * call. It commits a marker transaction on the primary and waits for its replay, so it costs
   * about applyDelayMs.
   */
  async catchUp({ timeoutMs = 15_000 } = {}): Promise<void> {
    const c = await this.primary.connect();
    let target: string;
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_current_xact_id()');
      await c.query('COMMIT');
      target = (await c.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn;
    } finally {
      c.release();
    }
    const end = Date.now() + timeoutMs;
    for (;;) {
      const replayed = await this.replayLsn();
      if (replayedPast(replayed, target)) return;
      if (Date.now() > end)
        throw new Error(
          `the replica had replayed only up to ${replayed} after ${timeoutMs / 1000} s, waiting for ${target}: replication is stuck`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
