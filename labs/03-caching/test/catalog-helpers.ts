/**
 * Helpers shared by the caching lab's tests: seeding products straight into Postgres, counting how
 * often Postgres ran the product page query, and finding cache entries by their documented names.
 * Everything here judges behaviour from outside the service: Postgres's own figures
 * (pg_stat_statements) and what Redis holds.
 */
import { sleep, type LabContext, type Service } from '../../../harness/testing/index.js';

/** The slow page query, as pg_stat_statements records it (SELECT … FROM product_page($1)). */
export const PAGE_QUERY = '%product_page(%';

export interface Seeded {
  id: number;
  sku: string;
  name: string;
  priceCents: number;
}

export function catalogHelpers(lab: LabContext, firstId: number) {
  let nextId = firstId;

  /** Inserts n products, each with two reviews (4 and 5 stars). */
  async function seed(n: number): Promise<Seeded[]> {
    const made: Seeded[] = [];
    for (let i = 0; i < n; i++) {
      const id = nextId++;
      const p = { id, sku: `SKU-${id}`, name: `Product ${id}`, priceCents: 1_000 + id };
      made.push(p);
    }
    await lab.db.query(
      `INSERT INTO products (id, sku, name, description, price_cents)
       SELECT id, 'SKU-' || id, 'Product ' || id, 'A fine product', 1000 + id FROM unnest($1::bigint[]) AS id`,
      [made.map((p) => p.id)],
    );
    await lab.db.query(`INSERT INTO reviews (product_id, stars) SELECT id, s FROM unnest($1::bigint[]) AS id, (VALUES (4), (5)) AS v(s)`, [
      made.map((p) => p.id),
    ]);
    return made;
  }

  /** How many times Postgres has run the product page query in this test file's database. */
  const pageCalls = () => lab.stats.statementCalls(PAGE_QUERY);

  /**
   * Reads a product on every instance until a whole round of reads no longer reaches Postgres:
   * the page is then cached and every instance is talking to Redis (a client that connects
   * lazily, or is still connecting, would otherwise make the first test flaky). Returns false if
   * that never happened within the time allowed; the tests then fail with their own messages.
   */
  async function warm(service: Service, id: number, timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const before = await pageCalls();
      for (const instance of service.instances) {
        const res = await instance.http.get(`/products/${id}`);
        if (res.status !== 200) throw new Error(`warming the cache: GET /products/${id} answered ${res.status}: ${res.text}`);
      }
      if ((await pageCalls()) === before) return true;
      if (Date.now() > end) return false;
      await sleep(100);
    }
  }

  /**
   * Cache entries for the given products, by the documented key names: `product:<id>`, or
   * `product:<id>:<anything>` for schemes that version their keys.
   */
  async function cacheKeys(ids: number[]): Promise<Map<number, string[]>> {
    const wanted = new Set(ids);
    const found = new Map<number, string[]>(ids.map((id) => [id, []]));
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, keys] = await lab.redis.scan(cursor, 'MATCH', 'product:*', 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const m = /^product:(\d+)(?::.*)?$/.exec(key);
        const id = m ? Number(m[1]) : NaN;
        if (wanted.has(id)) found.get(id)!.push(key);
      }
    } while (cursor !== '0' && ++rounds < 10_000);
    return found;
  }

  return { seed, pageCalls, warm, cacheKeys };
}

/** The fields of a product page the tests compare with what was seeded or written. */
export function pageSummary(body: unknown): { id?: number; name?: string; priceCents?: number } {
  const b = (body ?? {}) as Record<string, unknown>;
  return { id: b.id as number, name: b.name as string, priceCents: b.priceCents as number };
}
