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
    reviews: {
      count: Number(r.review_count),
      averageStars: r.avg_stars === null ? null : Number(r.avg_stars),
    },
  };
}

/** Product pages cached in this process's memory: no network hop, and nothing to fail. */
export class Catalog {
  private readonly pages = new Map<number, { page: ProductPage | undefined; until: number }>();
  private readonly loading = new Map<number, Promise<ProductPage | undefined>>();
  private readonly ttlMs = 300_000;

  constructor(
    private readonly pool: pg.Pool,
    _cache: ProductCache,
  ) {}

  async getProduct(id: number): Promise<ProductPage | undefined> {
    const hit = this.pages.get(id);
    if (hit && hit.until > Date.now()) return hit.page;
    let load = this.loading.get(id);
    if (!load) {
      load = loadProductPage(this.pool, id)
        .then((page) => {
          this.pages.set(id, {
            page,
            until: Date.now() + this.ttlMs * (0.9 + 0.2 * Math.random()),
          });
          return page;
        })
        .finally(() => this.loading.delete(id));
      this.loading.set(id, load);
    }
    return load;
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
    this.pages.delete(id);
    return rows[0] && toProduct(rows[0]);
  }
}
