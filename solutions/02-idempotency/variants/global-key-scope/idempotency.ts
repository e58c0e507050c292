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

/** Idempotency keys in Postgres. */
export class IdempotencyKeys {
  constructor(
    private readonly pool: pg.Pool,
    private readonly retentionSeconds: number,
  ) {}

  /**
   * Claims the key, or reports what happened to it. The INSERT is the whole decision: the primary
   * key lets exactly one of any number of concurrent requests, on any instance, get the row.
   */
  async claim(customerId: string, key: string, hash: string): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.pool.query(
        `INSERT INTO idempotency_keys (customer_id, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE
           SET request_hash = EXCLUDED.request_hash, response_status = NULL, response_body = NULL, created_at = now(), completed_at = NULL
           WHERE idempotency_keys.completed_at < now() - make_interval(secs => $4)`,
        [customerId, key, hash, this.retentionSeconds],
      );
      if (inserted.rowCount === 1) return { kind: 'claimed' };
      const { rows } = await this.pool.query('SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE key = $1', [
        key,
      ]);
      const row = rows[0];
      if (!row) continue; // the owner failed and released the key in between: try to claim it again
      if (row.request_hash !== hash) return { kind: 'mismatch' };
      if (row.response_status === null) return { kind: 'in-flight' };
      return { kind: 'replay', response: { status: row.response_status, body: row.response_body } };
    }
    return { kind: 'in-flight' };
  }

  /** Stores the answer of the request that claimed the key; from now on the key replays it. */
  async complete(_customerId: string, key: string, response: StoredResponse): Promise<void> {
    await this.pool.query(
      `UPDATE idempotency_keys SET response_status = $2, response_body = $3, completed_at = now()
       WHERE key = $1`,
      [key, response.status, JSON.stringify(response.body)],
    );
  }

  /** Gives the key back after a failure that charged nothing, so that the client's retry can pay. */
  async release(_customerId: string, key: string): Promise<void> {
    await this.pool.query('DELETE FROM idempotency_keys WHERE key = $1 AND response_status IS NULL', [key]);
  }
}
