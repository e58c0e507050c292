import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Redis, Result } from 'ioredis';
import { HttpError } from './errors.js';

/**
 * A sliding-window counter: per API key, counts for the current clock-aligned window and the one
 * before it. The number of requests in the last `windowMs` is estimated as
 *   previous × (share of the previous window still inside the sliding window) + current,
 * and a request passes if the estimate plus this request stays within the limit. Two numbers
 * per key instead of a log entry per request; the price is that the estimate assumes the previous
 * window's requests were spread evenly.
 */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  failMode: 'open' | 'closed';
}

/** How long the limiter waits for Redis before applying failMode. */
const REDIS_BUDGET_MS = 1_000;

// KEYS[1] a hash: w (current window number), c (its count), p (previous window's count).
// ARGV: limit, window (ms). Returns { allowed, remaining, retryAfterMs, resetMs }.
const SLIDING_WINDOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local w = math.floor(now / window)
local elapsed = now - w * window
local state = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local sw, c, p = tonumber(state[1]), tonumber(state[2]) or 0, tonumber(state[3]) or 0
if sw == nil then c, p = 0, 0
elseif sw == w - 1 then c, p = 0, c
elseif sw ~= w then c, p = 0, 0 end
local weight = (window - elapsed) / window
if p * weight + c + 1 <= limit then
  c = c + 1
  redis.call('HSET', KEYS[1], 'w', w, 'c', c, 'p', p)
  redis.call('PEXPIRE', KEYS[1], 2 * window)
  return { 1, math.floor(limit - (p * weight + c)), 0, window - elapsed }
end
-- When does p * (window - e) / window + c + 1 <= limit hold?
local retry
if c + 1 <= limit then
  local e = window * (1 - (limit - 1 - c) / p)
  retry = math.ceil(e - elapsed)
else
  local e = 0
  if c > limit - 1 then e = window * (1 - (limit - 1) / c) end
  retry = math.ceil(window - elapsed + e)
end
return { 0, 0, math.max(retry, 1), window - elapsed }
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    slidingWindow(key: string, limit: number, windowMs: number): Result<[number, number, number, number], Context>;
  }
}

class RedisTimeout extends Error {}

function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeout(`no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function rateLimit(redis: Redis, opts: RateLimitOptions) {
  redis.defineCommand('slidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW });

  return async (_req: Request, res: Response, next: NextFunction) => {
    const id = createHash('sha256')
      .update(res.locals.apiKey as string)
      .digest('hex')
      .slice(0, 32);
    let decision: [number, number, number, number];
    try {
      const pending = redis.slidingWindow(`ratelimit:swc:${id}`, opts.limit, opts.windowMs);
      pending.catch(() => undefined); // a late failure after the budget ran out is not an unhandled rejection
      decision = await within(REDIS_BUDGET_MS, pending);
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
