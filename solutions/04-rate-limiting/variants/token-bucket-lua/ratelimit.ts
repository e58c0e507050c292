import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Redis, Result } from 'ioredis';
import { HttpError } from './errors.js';

/**
 * A token bucket per API key, in Redis. The bucket holds up to `limit` tokens and refills at
 * `limit` tokens per `windowMs`, continuously; a request takes one token or is refused. A fresh key
 * may spend its whole quota at once, then earns one request every windowMs / limit.
 */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  failMode: 'open' | 'closed';
}

// KEYS[1] the bucket (a hash: tokens, ts); ARGV: capacity, window (ms).
// Returns { allowed, remaining, retryAfterMs, resetMs (until the bucket is full) }.
const TOKEN_BUCKET = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity = tonumber(ARGV[1])
local rate = capacity / tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
local full = math.ceil((capacity - tokens) / rate)
redis.call('PEXPIRE', KEYS[1], full + 1000)
local retry = 0
if allowed == 0 then retry = math.ceil((1 - tokens) / rate) end
return { allowed, math.floor(tokens), retry, full }
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tokenBucket(key: string, capacity: number, windowMs: number): Result<[number, number, number, number], Context>;
  }
}

export function rateLimit(redis: Redis, opts: RateLimitOptions) {
  redis.defineCommand('tokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET });

  return async (_req: Request, res: Response, next: NextFunction) => {
    const id = createHash('sha256')
      .update(res.locals.apiKey as string)
      .digest('hex')
      .slice(0, 32);
    let decision: [number, number, number, number];
    try {
      decision = await redis.tokenBucket(`ratelimit:bucket:${id}`, opts.limit, opts.windowMs);
    } catch (err) {
      console.error(`rate limiter unavailable (failing ${opts.failMode}):`, (err as Error).message);
      if (opts.failMode === 'open') return next();
      throw new HttpError(503, 'rate limiter unavailable');
    }
    const [allowed, remaining, retryAfterMs, resetMs] = decision;
    res.set('RateLimit-Limit', String(opts.limit));
    res.set('RateLimit-Remaining', String(remaining));
    res.set('RateLimit-Reset', String(Math.ceil(resetMs / 1000)));
    if (!allowed) {
      res.set('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
      throw new HttpError(429, 'rate limit exceeded');
    }
    next();
  };
}
