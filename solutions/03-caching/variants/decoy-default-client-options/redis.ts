import { Redis } from 'ioredis';

/**
 * The catalog's Redis client. Redis only ever holds copies of product pages: Postgres is the
 * source of truth.
 */
export function createRedis(url: string): Redis {
  const redis = new Redis(url);
  redis.on('error', (err) => console.error('[redis]', err.message));
  return redis;
}
