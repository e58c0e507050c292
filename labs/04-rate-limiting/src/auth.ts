import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import { HttpError } from './errors.js';

/** Every /v1 call needs its key checked, so a valid key is remembered for a minute (API-902). */
const KEY_CACHE_MS = 60_000;
const KEY_CACHE_MAX = 10_000;

/**
 * Every /v1 call carries the customer's API key in the X-API-Key header. A missing, unknown or
 * revoked key is a 401. On success res.locals.apiKey and res.locals.owner are set.
 */
export function requireApiKey(pool: pg.Pool) {
  const known = new Map<string, { owner: string; until: number }>();

  return async (req: Request, res: Response, next: NextFunction) => {
    const key = req.get('x-api-key');
    if (!key) throw new HttpError(401, 'missing X-API-Key header');
    let entry = known.get(key);
    if (!entry || entry.until < Date.now()) {
      const { rows } = await pool.query('SELECT owner FROM api_keys WHERE key = $1 AND revoked_at IS NULL', [key]);
      if (!rows[0]) {
        known.delete(key);
        throw new HttpError(401, 'unknown or revoked API key');
      }
      if (known.size >= KEY_CACHE_MAX) known.clear();
      entry = { owner: rows[0].owner as string, until: Date.now() + KEY_CACHE_MS };
      known.set(key, entry);
    }
    res.locals.apiKey = key;
    res.locals.owner = entry.owner;
    next();
  };
}
