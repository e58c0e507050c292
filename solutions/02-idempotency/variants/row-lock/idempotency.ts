import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { PaymentInput } from './payments.js';

export interface StoredResponse {
  status: number;
  body: unknown;
}

export type Outcome = { kind: 'done'; response: StoredResponse; replayed: boolean } | { kind: 'mismatch' } | { kind: 'in-flight' };

export function requestHash(input: PaymentInput): string {
  return createHash('sha256')
    .update(JSON.stringify([input.customerId, input.amountCents, input.currency]))
    .digest('hex');
}

/**
 * Runs `work` at most once per (customer, key): the key's row is locked (SELECT … FOR UPDATE) for
 * the whole of the work, so a concurrent request with the same key waits for the first to finish
 * and then finds its response. If the work fails, the transaction rolls back and the key is free.
 */
export async function onceForKey(
  pool: pg.Pool,
  retentionSeconds: number,
  customerId: string,
  key: string,
  hash: string,
  work: () => Promise<StoredResponse>,
): Promise<Outcome> {
  await pool.query(
    'INSERT INTO idempotency_keys (customer_id, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT (customer_id, key) DO NOTHING',
    [customerId, key, hash],
  );
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // A waiter gives up after 5 s and answers 409 rather than holding its connection for ever.
    await client.query(`SET LOCAL lock_timeout = '5s'`);
    const { rows } = await client.query(
      `SELECT request_hash, response_status, response_body,
              completed_at < now() - make_interval(secs => $3) AS expired
       FROM idempotency_keys WHERE customer_id = $1 AND key = $2 FOR UPDATE`,
      [customerId, key, retentionSeconds],
    );
    const row = rows[0];
    if (row.expired) {
      // Past its retention the key is forgotten: this request is a new one, and takes the row over.
      await client.query(
        `UPDATE idempotency_keys SET request_hash = $3, response_status = NULL, response_body = NULL, created_at = now(), completed_at = NULL
         WHERE customer_id = $1 AND key = $2`,
        [customerId, key, hash],
      );
      row.request_hash = hash;
      row.response_status = null;
    }
    if (row.request_hash !== hash) {
      await client.query('ROLLBACK');
      return { kind: 'mismatch' };
    }
    if (row.response_status !== null) {
      await client.query('COMMIT');
      return { kind: 'done', response: { status: row.response_status, body: row.response_body }, replayed: true };
    }
    const response = await work();
    await client.query(
      `UPDATE idempotency_keys SET response_status = $3, response_body = $4, completed_at = now() WHERE customer_id = $1 AND key = $2`,
      [customerId, key, response.status, JSON.stringify(response.body)],
    );
    await client.query('COMMIT');
    return { kind: 'done', response, replayed: false };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((err as { code?: string }).code === '55P03') return { kind: 'in-flight' };
    throw err;
  } finally {
    client.release();
  }
}
