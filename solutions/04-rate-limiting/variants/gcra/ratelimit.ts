import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Redis, Result } from 'ioredis';
import { HttpError } from './errors.js';

/**
 * GCRA (the generic cell rate algorithm): per API key Redis keeps one number, the theoretical
 * arrival time (TAT) of the next request if the client sent at exactly the allowed rate. Requests
 * are spaced by T = windowMs / limit; a burst of up to `limit` is tolerated (tau = windowMs - T).
 * A request at `now` passes if TAT - now <= tau, and then pushes TAT on by T.
 */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  failMode: 'open' | 'closed';
}

// KEYS[1] the key's TAT; ARGV: limit, window (ms). Returns { allowed, remaining, retryAfterMs, resetMs }.
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = window / limit
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local newTat = tat + interval
local allowAt = newTat - window
if now < allowAt then
  return { 0, 0, math.ceil(allowAt - now), math.ceil(tat - now) }
end
redis.call('SET', KEYS[1], string.format('%.3f', newTat), 'PX', math.ceil(newTat - now))
local remaining = math.floor((now - allowAt) / interval)
return { 1, remaining, 0, math.ceil(newTat - now) }
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gcra(key: string, limit: number, windowMs: number): Result<[number, number, number, number], Context>;
  }
}

export function rateLimit(redis: Redis, opts: RateLimitOptions) {
  redis.defineCommand('gcra', { numberOfKeys: 1, lua: GCRA });

  return async (_req: Request, res: Response, next: NextFunction) => {
    const id = createHash('sha256')
      .update(res.locals.apiKey as string)
      .digest('hex')
      .slice(0, 32);
    let decision: [number, number, number, number];
    try {
      decision = await redis.gcra(`ratelimit:tat:${id}`, opts.limit, opts.windowMs);
    } catch (err) {
      console.error(`rate limiter unavailable (failing ${opts.failMode}):`, (err as Error).message);
      if (opts.failMode === 'open') return next();
      res.set('Retry-After', '1');
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
