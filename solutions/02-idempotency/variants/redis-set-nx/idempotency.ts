import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
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

/** How long a claim may stay in flight: longer than any charge can take (the provider timeout). */
const IN_FLIGHT_MS = 60_000;

interface Entry {
  hash: string;
  response?: StoredResponse;
}

/**
 * Idempotency keys in Redis. SET … NX is the claim: of any number of concurrent requests, on any
 * instance, exactly one creates the key. The same key then holds the stored response.
 */
export class IdempotencyKeys {
  constructor(
    private readonly redis: Redis,
    /** How long a finished key replays its response: the retry window promised to clients. */
    private readonly keepMs: number,
  ) {}

  private id(customerId: string, key: string): string {
    return `idempotency:${JSON.stringify([customerId, key])}`;
  }

  async claim(customerId: string, key: string, hash: string): Promise<Claim> {
    const id = this.id(customerId, key);
    for (let attempt = 0; attempt < 3; attempt++) {
      const won = await this.redis.set(id, JSON.stringify({ hash } satisfies Entry), 'PX', IN_FLIGHT_MS, 'NX');
      if (won === 'OK') return { kind: 'claimed' };
      const raw = await this.redis.get(id);
      if (raw === null) continue; // released (or expired) in between: try to claim it again
      const entry = JSON.parse(raw) as Entry;
      if (entry.hash !== hash) return { kind: 'mismatch' };
      if (!entry.response) return { kind: 'in-flight' };
      return { kind: 'replay', response: entry.response };
    }
    return { kind: 'in-flight' };
  }

  async complete(customerId: string, key: string, hash: string, response: StoredResponse): Promise<void> {
    await this.redis.set(this.id(customerId, key), JSON.stringify({ hash, response } satisfies Entry), 'PX', this.keepMs);
  }

  async release(customerId: string, key: string): Promise<void> {
    await this.redis.del(this.id(customerId, key));
  }
}
