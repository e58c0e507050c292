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

/**
 * Records the payment, charges the card, and records the outcome. A failed charge leaves a
 * 'failed' row behind for support, and the error goes back to the caller.
 */
export async function createPayment(pool: pg.Pool, provider: Provider, input: PaymentInput): Promise<Payment> {
  const { rows } = await pool.query<PaymentRow>(
    `INSERT INTO payments (customer_id, amount_cents, currency, status) VALUES ($1, $2, $3, 'pending') RETURNING *`,
    [input.customerId, input.amountCents, input.currency],
  );
  const pending = toPayment(rows[0]!);
  let chargeId: string;
  try {
    const charge = await provider.charge({ ...input, reference: `pay_${pending.id}` });
    chargeId = charge.id;
  } catch (err) {
    await pool.query(`UPDATE payments SET status = 'failed' WHERE id = $1`, [pending.id]);
    throw err;
  }
  const done = await pool.query<PaymentRow>(`UPDATE payments SET status = 'succeeded', provider_charge_id = $2 WHERE id = $1 RETURNING *`, [
    pending.id,
    chargeId,
  ]);
  return toPayment(done.rows[0]!);
}
