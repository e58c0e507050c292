import type pg from 'pg';
import { HttpError } from './errors.js';

export interface Account {
  id: number;
  owner: string;
  balanceCents: number;
}

export interface Transfer {
  id: number;
  from: number;
  to: number;
  amountCents: number;
}

export async function getAccount(pool: pg.Pool, id: number): Promise<Account | undefined> {
  const { rows } = await pool.query('SELECT id, owner, balance_cents FROM accounts WHERE id = $1', [id]);
  const r = rows[0];
  return r && { id: Number(r.id), owner: r.owner, balanceCents: Number(r.balance_cents) };
}

/**
 * Moves money between two accounts in one transaction.
 *
 * Decoy: both rows are locked up front with one SELECT … FOR UPDATE, but with no ORDER BY: the
 * rows are locked in whatever order the plan returns them (for a scan of the heap, the order the
 * tuples happen to sit in), which is no global order. No lost updates; deadlocks remain.
 */
export async function transfer(pool: pg.Pool, from: number, to: number, amountCents: number): Promise<Transfer> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');

    const { rows: locked } = await client.query('SELECT id, balance_cents FROM accounts WHERE id IN ($1, $2) FOR UPDATE', [from, to]);
    const balance = new Map(locked.map((r) => [Number(r.id), Number(r.balance_cents)]));
    if (!balance.has(from) || !balance.has(to)) throw new HttpError(404, 'account not found');
    if (balance.get(from)! < amountCents) throw new HttpError(409, 'insufficient funds');

    await client.query('UPDATE accounts SET balance_cents = balance_cents - $1, updated_at = now() WHERE id = $2', [amountCents, from]);
    await client.query('UPDATE accounts SET balance_cents = balance_cents + $1, updated_at = now() WHERE id = $2', [amountCents, to]);

    const { rows } = await client.query('INSERT INTO transfers (from_id, to_id, amount_cents) VALUES ($1, $2, $3) RETURNING id', [
      from,
      to,
      amountCents,
    ]);
    await client.query('COMMIT');
    return { id: Number(rows[0].id), from, to, amountCents };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
