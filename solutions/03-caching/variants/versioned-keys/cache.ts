import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ProductPage } from './catalog.js';

/** The current version of a product's page. Not under product:, which holds only pages. */
export const versionKey = (id: number) => `version:product:${id}`;
/** Where one version of a product page is cached. */
export const productKey = (id: number, version: number) => `product:${id}:v${version}`;
export const fillLockKey = (id: number, version: number) => `lock:product:${id}:v${version}`;

/** A cached page, null for a product known not to exist, undefined on a miss. */
export type Cached = ProductPage | null | undefined;

const NOT_FOUND_TTL_SECONDS = 60;
const FILL_LOCK_MS = 5_000;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

function jittered(seconds: number): number {
  return Math.round(seconds * 1000 * (0.9 + 0.2 * Math.random()));
}

/** Product pages in Redis under versioned keys. Every method may reject when Redis is unavailable. */
export class ProductCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  async version(id: number): Promise<number> {
    return Number((await this.redis.get(versionKey(id))) ?? 0);
  }

  async get(id: number, version: number): Promise<Cached> {
    const raw = await this.redis.get(productKey(id, version));
    return raw === null ? undefined : (JSON.parse(raw) as ProductPage | null);
  }

  async set(id: number, version: number, page: ProductPage | null): Promise<void> {
    const seconds = page ? this.ttlSeconds : Math.min(NOT_FOUND_TTL_SECONDS, this.ttlSeconds);
    await this.redis.set(productKey(id, version), JSON.stringify(page), 'PX', jittered(seconds));
  }

  /** Moves every reader to a new key; the entry under the old one is never read again and expires. */
  async bump(id: number): Promise<void> {
    await this.redis.incr(versionKey(id));
  }

  async lockFill(id: number, version: number): Promise<string | undefined> {
    const token = randomUUID();
    return (await this.redis.set(fillLockKey(id, version), token, 'PX', FILL_LOCK_MS, 'NX')) === 'OK' ? token : undefined;
  }

  async unlockFill(id: number, version: number, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, fillLockKey(id, version), token);
  }
}
