import { createHash, randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Redis, Result } from 'ioredis';
import { HttpError } from './errors.js';

/**
 * Rate limiting for the public API: every plan promises `limit` requests per `windowMs`, per API
 * key, whichever instance serves the request.
 *
 * A sliding log: Redis keeps, per key, a sorted set of the times of the requests it let through.
 * A request passes if fewer than `limit` of them lie within the last `windowMs`. One Lua script
 * trims, counts and records, so the check and the count are one atomic step that both instances
 * share, and there is no window boundary at which the count resets.
 */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  /** "open": let requests through when Redis cannot be reached; "closed": refuse them with 503. */
  failMode: 'open' | 'closed';
}

export interface Decision {
  allowed: boolean;
  /** Requests still allowed right now, after this one. */
  remaining: number;
  /** Milliseconds until one more request is allowed (0 if one is allowed now). */
  retryAfterMs: number;
  /** Milliseconds until the oldest counted request leaves the window. */
  resetMs: number;
}

// KEYS[1] the key's log; ARGV: limit, window (ms), a unique member for this request.
// Returns { allowed (0/1), remaining, retryAfterMs, resetMs }.
const SLIDING_LOG = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  count = count + 1
  allowed = 1
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or now)
local reset = oldest + window - now
local retry = 0
if allowed == 0 then retry = reset end
return { allowed, limit - count, retry, reset }
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    slidingLog(key: string, limit: number, windowMs: number, member: string): Result<[number, number, number, number], Context>;
  }
}

export function rateLimit(redis: Redis, opts: RateLimitOptions) {
  redis.defineCommand('slidingLog', { numberOfKeys: 1, lua: SLIDING_LOG });

  async function check(apiKey: string): Promise<Decision> {
    // The key itself is a secret: keep only a digest of it in Redis.
    const id = createHash('sha256').update(apiKey).digest('hex').slice(0, 32);
    const [allowed, remaining, retryAfterMs, resetMs] = await redis.slidingLog(
      `ratelimit:log:${id}`,
      opts.limit,
      opts.windowMs,
      randomUUID(),
    );
    return { allowed: allowed === 1, remaining, retryAfterMs, resetMs };
  }

  return async (_req: Request, res: Response, next: NextFunction) => {
    let d: Decision;
    try {
      d = await check(res.locals.apiKey as string);
    } catch (err) {
      console.error(`rate limiter unavailable (failing ${opts.failMode}):`, (err as Error).message);
      if (opts.failMode === 'open') return next();
      res.set('Retry-After', '1');
      throw new HttpError(503, 'rate limiter unavailable, try again shortly');
    }
    res.set('RateLimit-Limit', String(opts.limit));
    res.set('RateLimit-Remaining', String(d.remaining));
    res.set('RateLimit-Reset', String(Math.ceil(d.resetMs / 1000)));
    if (!d.allowed) {
      res.set('Retry-After', String(Math.max(1, Math.floor(d.retryAfterMs / 1000))));
      throw new HttpError(429, `rate limit exceeded: ${opts.limit} requests per ${opts.windowMs / 1000} s`);
    }
    next();
  };
}
