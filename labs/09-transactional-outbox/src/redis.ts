import { Redis } from 'ioredis';
import type { Settings } from './settings.js';

/** The orders service's Redis client: a command that gets no answer within redisTimeoutMs fails instead of hanging. */
export function ordersRedis(url: string, settings: Settings): Redis {
  const redis = new Redis(url, { commandTimeout: settings.redisTimeoutMs, maxRetriesPerRequest: 1 });
  redis.on('error', (err) => console.error('redis error', err.message));
  return redis;
}

/** Shipping's client: it blocks on the stream, so no command time-out; it waits out an outage. */
export function shippingRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', (err) => console.error('redis error', err.message));
  return redis;
}
