/**
 * Price writes under a partition from Redis, as capMode says.
 *
 *   CP  a write Redis does not take now is refused (503), and never happens later.
 *   AP  a write Redis does not take now is kept in Postgres (pending_prices) and accepted (202);
 *       a reconciler on every instance applies what is pending, in the order it was accepted, once
 *       Redis answers again. A new write for a sku that still has pending ones queues behind them,
 *       so the last write accepted is the last one applied.
 */
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { HttpError } from './errors.js';
import { priceKey } from './redis.js';

export type CapMode = 'CP' | 'AP';

/** One reconciler at a time across instances (a transaction-level advisory lock). */
const RECONCILE_LOCK = 13_2501;

export function createPrices(redis: Redis, pool: pg.Pool, mode: CapMode) {
  const keep = async (sku: string, cents: number) => {
    await pool.query('INSERT INTO pending_prices (sku, cents) VALUES ($1, $2)', [sku, cents]);
    return 'pending' as const;
  };

  return {
    async write(sku: string, cents: number): Promise<'written' | 'pending'> {
      if (mode === 'AP') {
        const { rowCount } = await pool.query('SELECT 1 FROM pending_prices WHERE sku = $1 LIMIT 1', [sku]);
        if (rowCount) return keep(sku, cents);
      }
      try {
        await redis.set(priceKey(sku), String(cents));
        return 'written';
      } catch (err) {
        if (mode === 'CP') throw new HttpError(503, `price store unreachable, write refused (${(err as Error).message})`);
        return keep(sku, cents);
      }
    },

    /** AP: applies pending writes in order; returns how many. Safe to run on every instance at once. */
    async reconcile(): Promise<number> {
      if (redis.status !== 'ready') return 0;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows: lock } = await client.query('SELECT pg_try_advisory_xact_lock($1) AS got', [RECONCILE_LOCK]);
        if (!lock[0].got) {
          await client.query('ROLLBACK');
          return 0;
        }
        const { rows } = await client.query('SELECT id, sku, cents FROM pending_prices ORDER BY id LIMIT 500');
        for (const row of rows) await redis.set(priceKey(row.sku), String(row.cents));
        if (rows.length) await client.query('DELETE FROM pending_prices WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
        await client.query('COMMIT');
        return rows.length;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };
}
