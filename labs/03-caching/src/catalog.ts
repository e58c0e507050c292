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

/**
 * Product pages, cache-aside: look in Redis first, and on a miss run the page query and keep the
 * result in Redis for the next reader.
 *
 * Ops notes:
 * - CAT-512: merchandising lowered a price at 09:00; shoppers were still charged the old price
 *   at lunchtime, and nothing but a manual FLUSHDB fixed it.
 * - INC-3102: right after Monday's deploy (which flushed Redis), the product page of the
 *   newsletter's featured product ran the page query 900 times in one second and Postgres
 *   CPU sat at 100 %.
 */
export class Catalog {
  constructor(
    private readonly pool: pg.Pool,
    private readonly cache: ProductCache,
  ) {}

  async getProduct(id: number): Promise<ProductPage | undefined> {
    // TODO: INC-3107 (see redis.ts): when Redis is unreachable, is the catalog still up?
    const cached = await this.cache.get(id);
    if (cached) return cached;

    // TODO: INC-3102. What happens when hundreds of requests miss the same key at the same moment,
    // on each of the instances?
    const page = await loadProductPage(this.pool, id);

    // TODO (bonus): crawlers walking through ids we never had send every one of those requests
    // to the page query.
    if (page) await this.cache.set(id, page);
    return page;
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
    // TODO: CAT-512. The row has changed; what does the next reader of this product see?
    return rows[0] && toProduct(rows[0]);
  }
}
