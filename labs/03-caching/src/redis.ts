import { Redis } from 'ioredis';

/**
 * The catalog's Redis client. Redis only ever holds copies of product pages: Postgres is the
 * source of truth.
 */
export function createRedis(url: string): Redis {
  // TODO: INC-3107. During last week's Redis failover every product page hung for over a minute,
  // then answered 500, although Postgres was fine the whole time. What does this client do with a
  // command while it cannot reach Redis, or while Redis accepts the command and never answers?
  const redis = new Redis(url);
  redis.on('error', (err) => console.error('[redis]', err.message));
  return redis;
}
