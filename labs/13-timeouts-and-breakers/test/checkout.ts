/** Helpers shared by the checkout tests: one checkout, and how its outcome reads. */
import { HttpTimeoutError, type HttpClient } from '../../../harness/testing/index.js';

export interface Outcome {
  sku: string;
  /** The HTTP status, or 0 when no answer came within the client's time-out. */
  status: number;
  stock?: string;
  totalCents?: number;
  ms: number;
}

/** POST /checkout for one unit of sku; a hang is an outcome (status 0), not an exception. */
export async function checkout(client: HttpClient, sku: string, { qty = 1, timeoutMs = 8_000 } = {}): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await client.post('/checkout', { sku, qty }, { timeoutMs });
    return { sku, status: res.status, stock: res.body?.stock, totalCents: res.body?.totalCents, ms: res.ms };
  } catch (e) {
    if (e instanceof HttpTimeoutError) return { sku, status: 0, ms: Math.round(performance.now() - started) };
    throw e;
  }
}

/** What the user saw: "201 confirmed", "201 unconfirmed", "503", "no answer". */
export function seen(o: Outcome): string {
  if (o.status === 0) return 'no answer';
  if (o.status === 201) return `201 ${o.stock ?? '(no stock field)'}`;
  return String(o.status);
}

/** A degraded answer or a clean refusal: what a checkout may answer when inventory cannot. */
export const degraded = (o: Outcome) => o.status === 503 || (o.status === 201 && o.stock === 'unconfirmed');

/** "7 × 201 unconfirmed, 3 × no answer". */
export function tally(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(seen(o), (counts.get(seen(o)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} × ${k}`).join(', ');
}

export const ms = (n: number) => `${Math.round(n)} ms`;
