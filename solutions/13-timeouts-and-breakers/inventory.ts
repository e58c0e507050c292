/**
 * The inventory service's client. `GET {inventoryUrl}/stock/:sku` answers `{ sku, available }`.
 * Inventory is another team's service: usually 20 ms, sometimes much slower, sometimes down. Every
 * call here keeps to the caller's deadline, tells inventory how long it has, is retried a bounded
 * number of times with jittered backoff, and goes through a circuit breaker.
 */
import { CircuitBreaker } from './breaker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Inventory could not answer in time (time-out, errors, or the breaker is open). */
export class InventoryUnavailable extends Error {}

export interface InventoryOptions {
  url: string;
  retries: number;
  retryBaseMs: number;
  breakerFailures: number;
  breakerOpenMs: number;
}

export function createInventory(opts: InventoryOptions) {
  const breaker = new CircuitBreaker(opts.breakerFailures, opts.breakerOpenMs);
  return {
    breaker,
    /** How many units of sku inventory holds; throws InventoryUnavailable when it cannot say by `deadline` (epoch ms). */
    async available(sku: string, deadline: number): Promise<number> {
      for (let attempt = 0; ; attempt++) {
        const left = deadline - Date.now();
        if (left <= 0) throw new InventoryUnavailable('the checkout budget is spent');
        if (!breaker.allow()) throw new InventoryUnavailable('inventory circuit is open');
        try {
          const res = await fetch(`${opts.url}/stock/${encodeURIComponent(sku)}`, {
            // The deadline travels with the call: inventory can give up when we do.
            headers: { 'x-request-timeout-ms': String(left) },
            signal: AbortSignal.timeout(left),
          });
          if (res.status === 404) {
            breaker.success();
            return 0;
          }
          if (res.ok) {
            const body = (await res.json()) as { available: number };
            breaker.success();
            return body.available;
          }
          await res.body?.cancel();
          breaker.failure();
        } catch {
          breaker.failure(); // a time-out counts as a failure, like a 5xx
        }
        if (attempt >= opts.retries) throw new InventoryUnavailable(`inventory failed ${attempt + 1} times`);
        // Exponential backoff with jitter: checkouts that failed together do not retry together.
        const wait = opts.retryBaseMs * 2 ** attempt * (1 + Math.random() / 2);
        if (Date.now() + wait >= deadline) throw new InventoryUnavailable('no time left for another attempt');
        await sleep(wait);
      }
    },
  };
}
