import type pg from 'pg';

/** A payment.succeeded event from the provider, as the tests and the provider's docs describe it. */
export interface PaymentEvent {
  id: string;
  type: 'payment.succeeded';
  created: number;
  data: { customerId: string; amountCents: number };
}

/**
 * What a payment sets off before the customer is credited: the receipt is rendered and mailed,
 * and the risk engine is told. It is slow (settings.processingMs, about 2 s in production).
 */
export async function fulfil(_event: PaymentEvent, processingMs: number): Promise<void> {
  await new Promise((r) => setTimeout(r, processingMs));
}

/** Credits the customer with the payment: one row in credits. Not idempotent by itself. */
export async function credit(db: pg.Pool | pg.PoolClient, event: PaymentEvent): Promise<void> {
  await db.query('INSERT INTO credits (customer_id, amount_cents, provider_event_id) VALUES ($1, $2, $3)', [
    event.data.customerId,
    event.data.amountCents,
    event.id,
  ]);
}

/** The event we send our subscribers once a customer is credited. */
export function creditedEvent(event: PaymentEvent) {
  return {
    id: `credited_${event.id}`,
    type: 'balance.credited',
    created: Math.floor(Date.now() / 1000),
    data: { customerId: event.data.customerId, amountCents: event.data.amountCents, providerEventId: event.id },
  };
}
