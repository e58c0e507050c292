import { Redis } from 'ioredis';

/**
 * The catalog's Redis client. Redis only ever holds copies of product pages: Postgres is the
 * source of truth, so a command that cannot be answered quickly is worth less than no answer. Every
 * caller treats a rejected command as a cache miss and reads Postgres.
 */
export function createRedis(url: string): Redis {
  const redis = new Redis(url, {
    // While disconnected, reject commands at once instead of queueing them until Redis is back.
    enableOfflineQueue: false,
    // Commands in flight when the connection drops fail at once; they are not re-sent later.
    maxRetriesPerRequest: 0,
    // A Redis that accepts a command and never answers (a blackholed network) costs at most 1 s, not
    // for ever. Healthy commands take well under a millisecond; the margin is for a busy event loop.
    commandTimeout: 1_000,
    connectTimeout: 1_000,
    // Don't retry: a dead Redis should cost nothing.
    retryStrategy: () => null,
  });
  let lastLogged = 0;
  redis.on('error', (err) => {
    // Reconnection attempts fail every couple of seconds during an outage: log the first of a burst.
    if (Date.now() - lastLogged > 10_000) console.error('[redis]', err.message);
    lastLogged = Date.now();
  });
  return redis;
}
