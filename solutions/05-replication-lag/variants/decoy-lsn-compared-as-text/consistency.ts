/**
 * Read-your-writes and monotonic reads on an asynchronous replica, by WAL position.
 *
 * Every write answers with a cookie holding the primary's WAL position after the commit (an LSN).
 * A read that carries one goes to the replica only if the replica has replayed at least that far
 * (pg_last_wal_replay_lsn()); otherwise to the primary. A read served by the primary moves the
 * cookie up to the primary's position, so the next read can never see an older state (monotonic
 * reads). Reads without a cookie, which is most of them, go to the replica; if it is slow or gone,
 * they fall back to the primary.
 */
import type { Request, Response } from 'express';
import type pg from 'pg';
import type { Queryable } from './profiles.js';

export const LSN_COOKIE = 'profiles_lsn';
/** Long after any sane replication lag; the cookie only has to outlive it. */
const LSN_COOKIE_MAX_AGE_S = 300;
const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;

/** The LSN this browser must not read behind, from its cookie. */
export function minLsnOf(req: Request): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [k, raw] = part.trim().split('=');
    if (k !== LSN_COOKIE || !raw) continue;
    const v = decodeURIComponent(raw); // res.cookie() URI-encodes the "/"
    if (LSN.test(v)) return v;
  }
  return undefined;
}

export function rememberLsn(res: Response, lsn: string): void {
  res.cookie(LSN_COOKIE, lsn, { path: '/', maxAge: LSN_COOKIE_MAX_AGE_S * 1000, httpOnly: true, sameSite: 'lax' });
}

/** The primary's WAL insert position: at or past the end of every commit made before this call. */
export async function primaryLsn(primary: Queryable): Promise<string> {
  const { rows } = await primary.query('SELECT pg_current_wal_insert_lsn()::text AS lsn');
  return rows[0].lsn;
}

export interface Routed<T> {
  value: T;
  servedBy: 'replica' | 'primary';
}

/**
 * Runs a read on the replica when it is fresh enough for this browser, else on the primary.
 * Check first, then read: the read's snapshot is taken after the check, so it includes everything
 * the replica had replayed when it said yes.
 */
export async function routedRead<T>(
  pools: { primary: pg.Pool; replica: pg.Pool },
  minLsn: string | undefined,
  read: (db: Queryable) => Promise<T>,
): Promise<Routed<T>> {
  try {
    if (minLsn) {
      const { rows } = await pools.replica.query('SELECT pg_last_wal_replay_lsn()::text AS lsn');
      const replayed: string | null = rows[0]?.lsn ?? null;
      // The decoy: two LSNs compared as strings. Right while both have as many hex digits, wrong
      // across a digit boundary ('0/F3A2B18' >= '0/10000060' is true as text).
      if (replayed === null || !(replayed >= minLsn)) return { value: await read(pools.primary), servedBy: 'primary' };
    }
    return { value: await read(pools.replica), servedBy: 'replica' };
  } catch (err) {
    console.warn('replica read failed, falling back to the primary:', (err as Error).message);
    return { value: await read(pools.primary), servedBy: 'primary' };
  }
}
