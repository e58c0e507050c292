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
 * Decoy: retries on deadlock, but on the same connection without ROLLBACK. The transaction is
 * already aborted (25P02), so every retry fails too.
 */
export async function transfer(pool: pg.Pool, from: number, to: number, amountCents: number): Promise<Transfer> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (let attempt = 1; ; attempt++) {
      try {
        const fromRes = await client.query('SELECT balance_cents FROM accounts WHERE id = $1 FOR UPDATE', [from]);
        const toRes = await client.query('SELECT balance_cents FROM accounts WHERE id = $1 FOR UPDATE', [to]);
        if (fromRes.rowCount === 0 || toRes.rowCount === 0) throw new HttpError(404, 'account not found');
        const fromBalance = Number(fromRes.rows[0].balance_cents);
        if (fromBalance < amountCents) throw new HttpError(409, 'insufficient funds');
        await client.query('UPDATE accounts SET balance_cents = balance_cents - $1 WHERE id = $2', [amountCents, from]);
        await client.query('UPDATE accounts SET balance_cents = balance_cents + $1 WHERE id = $2', [amountCents, to]);
        const { rows } = await client.query('INSERT INTO transfers (from_id, to_id, amount_cents) VALUES ($1, $2, $3) RETURNING id', [
          from,
          to,
          amountCents,
        ]);
        await client.query('COMMIT');
        return { id: Number(rows[0].id), from, to, amountCents };
      } catch (err) {
        if ((err as { code?: string }).code === '40P01' && attempt < 5) continue;
        throw err;
      }
    }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
