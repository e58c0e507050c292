import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { PaymentInput } from './payments.js';

export interface StoredResponse {
  status: number;
  body: unknown;
}

export type Claim = { kind: 'claimed' } | { kind: 'replay'; response: StoredResponse } | { kind: 'mismatch' } | { kind: 'in-flight' };

export function requestHash(input: PaymentInput): string {
  return createHash('sha256')
    .update(JSON.stringify([input.customerId, input.amountCents, input.currency]))
    .digest('hex');
}

/** Looks the key up; if it is new, records it as in flight. Two statements, no constraint. */
export class IdempotencyKeys {
  constructor(
    private readonly pool: pg.Pool,
    private readonly retentionSeconds: number,
  ) {}

  async claim(customerId: string, key: string, hash: string): Promise<Claim> {
    const { rows } = await this.pool.query(
      `SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE customer_id = $1 AND key = $2
       AND (completed_at IS NULL OR completed_at >= now() - make_interval(secs => $3)) LIMIT 1`,
      [customerId, key, this.retentionSeconds],
    );
    const row = rows[0];
    if (row) {
      if (row.request_hash !== hash) return { kind: 'mismatch' };
      if (row.response_status === null) return { kind: 'in-flight' };
      return { kind: 'replay', response: { status: row.response_status, body: row.response_body } };
    }
    await this.pool.query('INSERT INTO idempotency_keys (customer_id, key, request_hash) VALUES ($1, $2, $3)', [customerId, key, hash]);
    return { kind: 'claimed' };
  }

  async complete(customerId: string, key: string, response: StoredResponse): Promise<void> {
    await this.pool.query(
      `UPDATE idempotency_keys SET response_status = $3, response_body = $4, completed_at = now()
       WHERE customer_id = $1 AND key = $2`,
      [customerId, key, response.status, JSON.stringify(response.body)],
    );
  }

  async release(customerId: string, key: string): Promise<void> {
    await this.pool.query('DELETE FROM idempotency_keys WHERE customer_id = $1 AND key = $2 AND response_status IS NULL', [
      customerId,
      key,
    ]);
  }
}
