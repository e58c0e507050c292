import type pg from 'pg';
import type { ProductCache } from './cache.js';

/** What GET /products/:id answers. */
export interface ProductPage {
  id: number;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  updatedAt: string;
  reviews: { count: number; averageStars: number | null };
}

/** What PUT /products/:id answers. */
export interface Product {
  id: number;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  updatedAt: string;
}

export interface ProductPatch {
  name?: string;
  description?: string;
  priceCents?: number;
}

function toProduct(r: Record<string, any>): Product {
  return {
    id: Number(r.id),
    sku: r.sku,
    name: r.name,
    description: r.description,
    priceCents: Number(r.price_cents),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** Runs the (slow) product page query. Undefined when there is no such product. */
export async function loadProductPage(pool: pg.Pool, id: number): Promise<ProductPage | undefined> {
  const { rows } = await pool.query('SELECT * FROM product_page($1)', [id]);
  const r = rows[0];
  if (!r) return undefined;
  return {
    ...toProduct(r),
    reviews: { count: Number(r.review_count), averageStars: r.avg_stars === null ? null : Number(r.avg_stars) },
  };
}

/** How often a request waiting for another's load looks at the cache again. */
const POLL_MS = 50;
/** How long it waits before loading the page itself (the loader may have died). */
const MAX_WAIT_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Product pages, cache-aside in Redis:
 * - a read looks in Redis; on a miss, one request per key (on any instance) takes a fill lock,
 *   loads the page and caches it, while the others poll the cache for its result;
 * - a write updates Postgres, then deletes the cached page, so the next read loads the new one;
 * - unknown ids are cached too, as a short-lived "not found";
 * - Redis is optional: any Redis error makes the request read Postgres directly.
 */
export class Catalog {
  private lastWarned = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly cache: ProductCache,
  ) {}

  async getProduct(id: number): Promise<ProductPage | undefined> {
    try {
      const cached = await this.cache.get(id);
      if (cached !== undefined) return cached ?? undefined;
    } catch (err) {
      return this.bypass(id, err);
    }
    return this.fill(id);
  }

  /** A miss: load the page once for everybody. */
  private async fill(id: number): Promise<ProductPage | undefined> {
    const giveUpAt = Date.now() + MAX_WAIT_MS;
    for (;;) {
      let token: string | undefined;
      try {
        token = await this.cache.lockFill(id);
      } catch (err) {
        return this.bypass(id, err);
      }
      // The fill lock is left to expire by itself (PX): no release to forget on an error path.
      if (token) return await this.loadAndCache(id);
      if (Date.now() > giveUpAt) return loadProductPage(this.pool, id);
      await sleep(POLL_MS);
      try {
        const cached = await this.cache.get(id);
        if (cached !== undefined) return cached ?? undefined;
      } catch (err) {
        return this.bypass(id, err);
      }
    }
  }

  private async loadAndCache(id: number): Promise<ProductPage | undefined> {
    // Another loader may have filled the cache between our miss and our lock.
    try {
      const cached = await this.cache.get(id);
      if (cached !== undefined) return cached ?? undefined;
    } catch (err) {
      return this.bypass(id, err);
    }
    const page = await loadProductPage(this.pool, id);
    await this.cache.set(id, page ?? null).catch((err) => this.warn(err));
    return page;
  }

  /** Redis failed: serve from Postgres, and do not touch Redis again in this request. */
  private bypass(id: number, err: unknown): Promise<ProductPage | undefined> {
    this.warn(err);
    return loadProductPage(this.pool, id);
  }

  private warn(err: unknown): void {
    if (Date.now() - this.lastWarned < 10_000) return;
    this.lastWarned = Date.now();
    console.warn('[cache] Redis unavailable, serving product pages from Postgres:', (err as Error).message);
  }

  async updateProduct(id: number, patch: ProductPatch): Promise<Product | undefined> {
    const { rows } = await this.pool.query(
      `UPDATE products
          SET name = coalesce($2, name),
              description = coalesce($3, description),
              price_cents = coalesce($4, price_cents),
              updated_at = now()
        WHERE id = $1
        RETURNING id, sku, name, description, price_cents, updated_at`,
      [id, patch.name ?? null, patch.description ?? null, patch.priceCents ?? null],
    );
    if (!rows[0]) return undefined;
    // After the commit: a reader that misses from now on loads the new row.
    await this.cache
      .invalidate(id)
      .catch((err) =>
        console.error(`[cache] could not invalidate ${id}; readers may see the old page until its TTL runs out:`, (err as Error).message),
      );
    return toProduct(rows[0]);
  }
}
