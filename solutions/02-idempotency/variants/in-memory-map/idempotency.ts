import { createHash } from 'node:crypto';
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

interface Entry {
  hash: string;
  response?: StoredResponse;
  expiresAt: number;
}

const TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Idempotency keys in process memory. Claiming is atomic (JavaScript runs one handler at a time
 * between awaits), and keys expire after 24 hours.
 */
export class IdempotencyKeys {
  private readonly entries = new Map<string, Entry>();

  async claim(customerId: string, key: string, hash: string): Promise<Claim> {
    const id = JSON.stringify([customerId, key]);
    const now = Date.now();
    const entry = this.entries.get(id);
    if (!entry || entry.expiresAt < now) {
      this.entries.set(id, { hash, expiresAt: now + TTL_MS });
      return { kind: 'claimed' };
    }
    if (entry.hash !== hash) return { kind: 'mismatch' };
    if (!entry.response) return { kind: 'in-flight' };
    return { kind: 'replay', response: entry.response };
  }

  async complete(customerId: string, key: string, response: StoredResponse): Promise<void> {
    const entry = this.entries.get(JSON.stringify([customerId, key]));
    if (entry) entry.response = response;
  }

  async release(customerId: string, key: string): Promise<void> {
    this.entries.delete(JSON.stringify([customerId, key]));
  }
}
