import { Redis } from 'ioredis';

/** The price store's client. Prices live in Redis as `price:<sku>` → integer cents. */
export function createRedis(url: string): Redis {
  // TODO: PRICE-88. While the link to Redis was down, price updates neither failed nor succeeded:
  // they hung for ten seconds and more, and some were applied minutes later, after the callers had
  // been told they failed. What does this client do with a command while it cannot reach Redis?
  const redis = new Redis(url);
  redis.on('error', (err) => console.error('[redis]', err.message));
  return redis;
}

export const priceKey = (sku: string) => `price:${sku}`;
