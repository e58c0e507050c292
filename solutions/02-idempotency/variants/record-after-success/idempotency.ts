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

/** Replays finished payments. A key is written only once its payment has succeeded. */
export class IdempotencyKeys {
  constructor(private readonly pool: pg.Pool) {}

  async claim(customerId: string, key: string, hash: string): Promise<Claim> {
    const { rows } = await this.pool.query(
      'SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE customer_id = $1 AND key = $2',
      [customerId, key],
    );
    const row = rows[0];
    if (!row) return { kind: 'claimed' };
    if (row.request_hash !== hash) return { kind: 'mismatch' };
    return { kind: 'replay', response: { status: row.response_status, body: row.response_body } };
  }

  async complete(customerId: string, key: string, hash: string, response: StoredResponse): Promise<void> {
    await this.pool.query(
      `INSERT INTO idempotency_keys (customer_id, key, request_hash, response_status, response_body, completed_at)
       VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (customer_id, key) DO NOTHING`,
      [customerId, key, hash, response.status, JSON.stringify(response.body)],
    );
  }

  /** Nothing was written before the charge, so there is nothing to give back. */
  async release(_customerId: string, _key: string): Promise<void> {}
}
