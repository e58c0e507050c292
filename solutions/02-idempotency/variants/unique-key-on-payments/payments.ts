import type pg from 'pg';
import type { Provider } from './provider.js';

export interface PaymentInput {
  customerId: string;
  amountCents: number;
  currency: string;
}

export interface Payment extends PaymentInput {
  id: number;
  status: 'pending' | 'succeeded' | 'failed';
  providerChargeId: string | null;
  createdAt: string;
}

interface PaymentRow {
  id: string;
  customer_id: string;
  amount_cents: string;
  currency: string;
  status: Payment['status'];
  provider_charge_id: string | null;
  created_at: Date;
}

const toPayment = (r: PaymentRow): Payment => ({
  id: Number(r.id),
  customerId: r.customer_id,
  amountCents: Number(r.amount_cents),
  currency: r.currency,
  status: r.status,
  providerChargeId: r.provider_charge_id,
  createdAt: r.created_at.toISOString(),
});

export async function getPayment(pool: pg.Pool, id: number): Promise<Payment | undefined> {
  const { rows } = await pool.query<PaymentRow>('SELECT * FROM payments WHERE id = $1', [id]);
  return rows[0] && toPayment(rows[0]);
}

export type PaymentResult =
  { kind: 'created'; payment: Payment } | { kind: 'replay'; payment: Payment } | { kind: 'mismatch' } | { kind: 'in-flight' };

/**
 * Records the payment under its idempotency key, charges the card, and records the outcome. The
 * unique (customer_id, idempotency_key) constraint makes the INSERT the claim: of concurrent
 * requests with one key, exactly one inserts the row and charges. The payment row is the stored
 * response: a retry gets it back, for `retentionSeconds`. A failed charge marks the row 'failed' and
 * frees the key.
 */
export async function createPayment(
  pool: pg.Pool,
  provider: Provider,
  input: PaymentInput,
  key: string,
  hash: string,
  retentionSeconds: number,
): Promise<PaymentResult> {
  let pending: Payment | undefined;
  for (let attempt = 0; attempt < 3 && !pending; attempt++) {
    // A payment replays for its key's retention; past it the key is given up, so this request is new.
    await pool.query(
      `UPDATE payments SET idempotency_key = NULL WHERE customer_id = $1 AND idempotency_key = $2
       AND status = 'succeeded' AND created_at < now() - make_interval(secs => $3)`,
      [input.customerId, key, retentionSeconds],
    );
    const { rows } = await pool.query<PaymentRow>(
      `INSERT INTO payments (customer_id, amount_cents, currency, status, idempotency_key, request_hash)
       VALUES ($1, $2, $3, 'pending', $4, $5)
       ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING *`,
      [input.customerId, input.amountCents, input.currency, key, hash],
    );
    if (rows[0]) {
      pending = toPayment(rows[0]);
      break;
    }
    const existing = await pool.query<PaymentRow & { request_hash: string }>(
      'SELECT * FROM payments WHERE customer_id = $1 AND idempotency_key = $2',
      [input.customerId, key],
    );
    const row = existing.rows[0];
    if (!row) continue; // its charge failed and it gave the key up in between: claim it again
    if (row.request_hash !== hash) return { kind: 'mismatch' };
    if (row.status === 'pending') return { kind: 'in-flight' };
    return { kind: 'replay', payment: toPayment(row) };
  }
  if (!pending) return { kind: 'in-flight' };
  let chargeId: string;
  try {
    const charge = await provider.charge({ ...input, reference: `pay_${pending.id}` });
    chargeId = charge.id;
  } catch (err) {
    await pool.query(`UPDATE payments SET status = 'failed', idempotency_key = NULL WHERE id = $1`, [pending.id]);
    throw err;
  }
  const done = await pool.query<PaymentRow>(`UPDATE payments SET status = 'succeeded', provider_charge_id = $2 WHERE id = $1 RETURNING *`, [
    pending.id,
    chargeId,
  ]);
  return { kind: 'created', payment: toPayment(done.rows[0]!) };
}
