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

/** Alternative fix: one conditional UPDATE per row, rows touched in ascending id order. */
export async function transfer(pool: pg.Pool, from: number, to: number, amountCents: number): Promise<Transfer> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const debit = async () => {
      const r = await client.query(
        'UPDATE accounts SET balance_cents = balance_cents - $1, updated_at = now() WHERE id = $2 AND balance_cents >= $1',
        [amountCents, from],
      );
      if (r.rowCount === 0) {
        const exists = await client.query('SELECT 1 FROM accounts WHERE id = $1', [from]);
        throw exists.rowCount ? new HttpError(409, 'insufficient funds') : new HttpError(404, 'account not found');
      }
    };
    const credit = async () => {
      const r = await client.query('UPDATE accounts SET balance_cents = balance_cents + $1, updated_at = now() WHERE id = $2', [
        amountCents,
        to,
      ]);
      if (r.rowCount === 0) throw new HttpError(404, 'account not found');
    };
    if (from < to) {
      await debit();
      await credit();
    } else {
      await credit();
      await debit();
    }
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
