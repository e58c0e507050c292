import type { Redis } from 'ioredis';
import type { ProductPage } from './catalog.js';

/** Where a product page is cached. */
export const productKey = (id: number) => `product:${id}`;

/** Product pages in Redis, as JSON. */
export class ProductCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  async get(id: number): Promise<ProductPage | undefined> {
    const raw = await this.redis.get(productKey(id));
    return raw === null ? undefined : (JSON.parse(raw) as ProductPage);
  }

  async set(id: number, page: ProductPage): Promise<void> {
    // TODO: how long may this copy live? And if a price import touches every product in the same
    // minute, when do all those copies go away?
    await this.redis.set(productKey(id), JSON.stringify(page));
  }
}
