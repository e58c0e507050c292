import pg from 'pg';

export interface PoolSettings {
  connectionLimit: number;
  reservedConnections: number;
  instances: number;
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
}

/**
 * This instance's share of the database's sessions: what the limit leaves after the reserve, split
 * evenly between the instances. 20 sessions, 4 reserved, 2 instances: 8 each.
 */
export function poolSize(s: PoolSettings): number {
  const share = Math.floor((s.connectionLimit - s.reservedConnections) / s.instances);
  if (share < 1)
    throw new Error(
      `connectionLimit ${s.connectionLimit} minus reservedConnections ${s.reservedConnections} leaves no session for each of ${s.instances} instances`,
    );
  return share;
}

/**
 * One pool per process, made once in createApp. Requests borrow a session and give it back; the
 * pool never holds more than its share, a request waits at most acquireTimeoutMs for one, and
 * Postgres itself cancels any statement that runs past statementTimeoutMs.
 */
export function createPool(databaseUrl: string, s: PoolSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize(s),
    // Bounds both waits: for a free client, and for a new session's login.
    connectionTimeoutMillis: s.acquireTimeoutMs,
    // Sent at login, so it holds for every statement on the session, in Postgres itself.
    statement_timeout: s.statementTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // A session that dies while idle in the pool (a restart, a network reset) must not crash the process.
  pool.on('error', (err) => console.error('idle pg client error', err.message));
  return pool;
}

/** Runs fn on a client borrowed from the pool, and gives it back however fn ends. */
export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

const UNAVAILABLE_SQLSTATES = new Set([
  '53300', // too many connections
  '57014', // query canceled: statement_timeout
  '57P01', // admin shutdown
  '57P02', // crash shutdown
  '57P03', // cannot connect now
]);

/**
 * True when the database could not serve the request now (no session free in time, Postgres
 * unreachable or refusing, a statement past its time-out): the request itself was fine, so the
 * answer is a 503 to retry later, not a 500.
 */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && (UNAVAILABLE_SQLSTATES.has(e.code) || e.code.startsWith('08'))) return true;
  if (typeof e?.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(e.code)) return true;
  return /timeout exceeded when trying to connect|Connection terminated/.test(e?.message ?? '');
}
