/**
 * The job's side effect: emailing a receipt through the mail provider. The provider's API:
 *
 *   POST {mailerUrl}/messages   { to, subject, text, reference }   → 202 { id }
 *
 * It sends one email per request it accepts. Like most payment and mail APIs it honours an
 * `Idempotency-Key` header: a request whose key it has seen before sends nothing and answers what
 * the first one did.
 */
import type { Settings } from './settings.js';

export interface ReceiptPayload {
  orderId: string;
  email: string;
  amountCents: number;
}

export interface Job {
  id: number;
  kind: string;
  payload: ReceiptPayload;
  attempts: number;
}

export async function sendReceipt(job: Job, settings: Settings): Promise<void> {
  const { orderId, email, amountCents } = job.payload;
  // TODO: a worker that dies after the provider sent the email but before the job was marked done
  // leaves the job to run again, and the customer gets the receipt twice. What would let the
  // provider recognise the second request as the same email?
  const res = await fetch(`${settings.mailerUrl}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      to: email,
      subject: `Your receipt for order ${orderId}`,
      text: `We received your payment of ${(amountCents / 100).toFixed(2)}.`,
      reference: orderId,
    }),
    signal: AbortSignal.timeout(settings.mailerTimeoutMs),
  });
  if (!res.ok) throw new Error(`the mail provider answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
}
