/**
 * The payment provider's side, as the tests play it: events, signed the way the provider's docs
 * say (HMAC-SHA256 over `${timestamp}.${raw body}`, hex, in `Webhook-Signature: v1=…`), and sent to
 * POST /webhooks/provider. Written here from the docs, not imported from the service.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { HttpResponse, LabContext, Service } from '../../../harness/testing/index.js';

export const PROVIDER_SECRET = 'whsec_provider_3f9c2a71';
export const SUBSCRIBER_SECRET = 'whsec_subscriber_81d0be42';

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function hmacHex(secret: string, timestamp: number | string, raw: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest('hex');
}

let seq = 0;
/** A fresh customer id for one test's events. */
export const newCustomer = (what: string) => `cus_${what}_${++seq}_${randomUUID().slice(0, 8)}`;

/** A payment.succeeded event, as the provider sends it. */
export function paymentEvent(customerId: string, amountCents: number) {
  return { id: `evt_${randomUUID()}`, type: 'payment.succeeded', created: nowSeconds(), data: { customerId, amountCents } };
}

export interface Delivery {
  raw: string;
  headers: Record<string, string>;
}

/** Signs the exact bytes `raw` as the provider does, at `timestamp` (now by default), with `secret`. */
export function signed(raw: string, opts: { secret?: string; timestamp?: number } = {}): Delivery {
  const timestamp = opts.timestamp ?? nowSeconds();
  return {
    raw,
    headers: {
      'content-type': 'application/json',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1=${hmacHex(opts.secret ?? PROVIDER_SECRET, timestamp, raw)}`,
    },
  };
}

/** POST /webhooks/provider on instance i, with exactly these bytes and headers. */
export function deliver(service: Service, i: number, d: Delivery, timeoutMs = 15_000): Promise<HttpResponse> {
  return service.http(i).post('/webhooks/provider', d.raw, { headers: d.headers, timeoutMs });
}

export const is2xx = (status: number) => status >= 200 && status < 300;
export const show = (res: HttpResponse) => `${res.status} ${res.text.slice(0, 200)}`;

/** The credits Postgres holds for a customer: how many, and their sum. */
export async function credits(lab: LabContext, customerId: string): Promise<{ count: number; cents: number }> {
  const { rows } = await lab.db.query(
    'SELECT count(*)::int AS count, coalesce(sum(amount_cents), 0)::int AS cents FROM credits WHERE customer_id = $1',
    [customerId],
  );
  return rows[0];
}
