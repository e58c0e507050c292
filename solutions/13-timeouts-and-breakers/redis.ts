import { Redis } from 'ioredis';

/**
 * The price store's client. Prices live in Redis as `price:<sku>` → integer cents. It fails fast:
 * a command it cannot send now is refused now, never queued to be sent later, so a caller that was
 * told "failed" can rely on it.
 */
export function createRedis(url: string, commandTimeoutMs: number): Redis {
  const redis = new Redis(url, {
    // While disconnected, reject commands at once instead of queueing them until Redis is back
    // (a queued SET would land after its caller was told it failed).
    enableOfflineQueue: false,
    // Commands in flight when the connection drops fail at once; they are not re-sent later.
    maxRetriesPerRequest: 0,
    // A Redis that accepts a command and never answers costs at most this.
    commandTimeout: commandTimeoutMs,
    connectTimeout: 1_000,
    // Keep trying to reconnect, and not too rarely, so that writes resume soon after a heal.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  let lastLogged = 0;
  redis.on('error', (err) => {
    // Reconnection attempts fail every second during a partition: log the first of a burst.
    if (Date.now() - lastLogged > 10_000) console.error('[redis]', err.message);
    lastLogged = Date.now();
  });
  return redis;
}

/** Resolves once the client is ready (it refuses commands until then), or after ms. */
export function whenReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    }
    redis.once('ready', done);
  });
}

export const priceKey = (sku: string) => `price:${sku}`;
