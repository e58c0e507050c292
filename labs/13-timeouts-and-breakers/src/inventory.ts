/**
 * The inventory service's client. `GET {inventoryUrl}/stock/:sku` answers `{ sku, available }`.
 * Inventory is another team's service: usually 20 ms, sometimes much slower, sometimes down.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface InventoryOptions {
  url: string;
  retryBaseMs: number;
}

export function createInventory(opts: InventoryOptions) {
  return {
    /** How many units of sku inventory holds. */
    async available(sku: string): Promise<number> {
      // TODO: INC-4410. When inventory slowed to 5 s, every checkout waited 5 s, then longer: this
      // asks with no time limit, and asks again, for ever, at the same fixed pace as every other
      // checkout that failed at the same moment. While inventory was down it got ten times its
      // normal traffic from us alone.
      for (;;) {
        try {
          const res = await fetch(`${opts.url}/stock/${encodeURIComponent(sku)}`);
          if (res.status === 404) return 0;
          if (res.ok) return ((await res.json()) as { available: number }).available;
        } catch {
          // inventory unreachable: ask again
        }
        await sleep(opts.retryBaseMs);
      }
    },
  };
}
