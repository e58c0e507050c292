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
 * Alternative fix: keep the code, run it under SERIALIZABLE, and retry the whole transaction on
 * 40001 / 40P01. Correct, but Postgres still detects deadlocks (it just recovers from them).
 */
export async function transfer(pool: pg.Pool, from: number, to: number, amountCents: number): Promise<Transfer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptTransfer(pool, from, to, amountCents);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code === '40001' || code === '40P01') && attempt < 30) {
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
        continue;
      }
      throw err;
    }
  }
}

async function attemptTransfer(pool: pg.Pool, from: number, to: number, amountCents: number): Promise<Transfer> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    const fromRes = await client.query('SELECT balance_cents FROM accounts WHERE id = $1', [from]);
    const toRes = await client.query('SELECT balance_cents FROM accounts WHERE id = $1', [to]);
    if (fromRes.rowCount === 0 || toRes.rowCount === 0) throw new HttpError(404, 'account not found');
    const fromBalance = Number(fromRes.rows[0].balance_cents);
    const toBalance = Number(toRes.rows[0].balance_cents);
    if (fromBalance < amountCents) throw new HttpError(409, 'insufficient funds');
    await client.query('UPDATE accounts SET balance_cents = $1, updated_at = now() WHERE id = $2', [fromBalance - amountCents, from]);
    await client.query('UPDATE accounts SET balance_cents = $1, updated_at = now() WHERE id = $2', [toBalance + amountCents, to]);
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
