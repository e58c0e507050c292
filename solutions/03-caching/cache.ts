import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ProductPage } from './catalog.js';

/** Where a product page is cached. */
export const productKey = (id: number) => `product:${id}`;
/** Held by the one request that loads a missing page. Not under product:, which holds only pages. */
export const fillLockKey = (id: number) => `lock:product:${id}`;

/** A cached page, null for a product known not to exist, undefined on a miss. */
export type Cached = ProductPage | null | undefined;

/** How long a "no such product" marker lives, at most. */
const NOT_FOUND_TTL_SECONDS = 60;
const FILL_LOCK_MS = 5_000;

/** Deletes the lock only if it is still ours: it may have expired and been taken by another loader. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** cacheTtlSeconds ±10 %, in ms: entries written together do not all expire together. */
function jittered(seconds: number): number {
  return Math.round(seconds * 1000 * (0.9 + 0.2 * Math.random()));
}

/** Product pages in Redis, as JSON. Every method may reject when Redis is unavailable. */
export class ProductCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  async get(id: number): Promise<Cached> {
    const raw = await this.redis.get(productKey(id));
    return raw === null ? undefined : (JSON.parse(raw) as ProductPage | null);
  }

  /** Caches a page, or (null) the fact that there is no such product, for a shorter time. */
  async set(id: number, page: ProductPage | null): Promise<void> {
    const seconds = page ? this.ttlSeconds : Math.min(NOT_FOUND_TTL_SECONDS, this.ttlSeconds);
    await this.redis.set(productKey(id), JSON.stringify(page), 'PX', jittered(seconds));
  }

  async invalidate(id: number): Promise<void> {
    await this.redis.del(productKey(id));
  }

  /** Tries to become the one loader of a page, on any instance. Returns the lock's token, or undefined if it is taken. */
  async lockFill(id: number): Promise<string | undefined> {
    const token = randomUUID();
    return (await this.redis.set(fillLockKey(id), token, 'PX', FILL_LOCK_MS, 'NX')) === 'OK' ? token : undefined;
  }

  async unlockFill(id: number, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, fillLockKey(id), token);
  }
}
