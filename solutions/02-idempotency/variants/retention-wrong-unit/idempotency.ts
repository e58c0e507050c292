import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { PaymentInput } from './payments.js';

/** What a key's first request was answered, kept so that a retry gets the very same answer. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

export type Claim =
  /** This request owns the key: do the work, then complete() or release(). */
  | { kind: 'claimed' }
  /** The key's first request finished: answer with what it answered. */
  | { kind: 'replay'; response: StoredResponse }
  /** The key was first used for a different request. */
  | { kind: 'mismatch' }
  /** The key's first request is still running. */
  | { kind: 'in-flight' };

/** A fingerprint of the request: the same key must always come with the same request. */
export function requestHash(input: PaymentInput): string {
  return createHash('sha256')
    .update(JSON.stringify([input.customerId, input.amountCents, input.currency]))
    .digest('hex');
}

/**
 * Idempotency keys in Postgres, scoped per customer. A finished key replays its response for
 * `retention` after it finished; after that the key is new again (and a nightly job may
 * delete the row).
 */
export class IdempotencyKeys {
  constructor(
    private readonly pool: pg.Pool,
    /** How long a finished key replays its response. */
    private readonly retention: number,
  ) {}

  /**
   * Claims the key, or reports what happened to it. The INSERT is the whole decision: the primary
   * key lets exactly one of any number of concurrent requests, on any instance, get the row. A
   * finished row past its retention is taken over by the same statement (the conflicting row is
   * locked, so of two concurrent requests only one takes it over).
   */
  async claim(customerId: string, key: string, hash: string): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.pool.query(
        `INSERT INTO idempotency_keys (customer_id, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT (customer_id, key) DO UPDATE
           SET request_hash = EXCLUDED.request_hash, response_status = NULL, response_body = NULL,
               created_at = now(), completed_at = NULL
           WHERE idempotency_keys.completed_at < $4`,
        [customerId, key, hash, new Date(Date.now() - this.retention)],
      );
      if (inserted.rowCount === 1) return { kind: 'claimed' };
      const { rows } = await this.pool.query(
        'SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE customer_id = $1 AND key = $2',
        [customerId, key],
      );
      const row = rows[0];
      if (!row) continue; // the owner failed and released the key in between: try to claim it again
      if (row.request_hash !== hash) return { kind: 'mismatch' };
      if (row.response_status === null) return { kind: 'in-flight' };
      return { kind: 'replay', response: { status: row.response_status, body: row.response_body } };
    }
    return { kind: 'in-flight' };
  }

  /** Stores the answer of the request that claimed the key; from now on the key replays it. */
  async complete(customerId: string, key: string, response: StoredResponse): Promise<void> {
    await this.pool.query(
      `UPDATE idempotency_keys SET response_status = $3, response_body = $4, completed_at = now()
       WHERE customer_id = $1 AND key = $2`,
      [customerId, key, response.status, JSON.stringify(response.body)],
    );
  }

  /** Gives the key back after a failure that charged nothing, so that the client's retry can pay. */
  async release(customerId: string, key: string): Promise<void> {
    await this.pool.query('DELETE FROM idempotency_keys WHERE customer_id = $1 AND key = $2 AND response_status IS NULL', [
      customerId,
      key,
    ]);
  }
}
