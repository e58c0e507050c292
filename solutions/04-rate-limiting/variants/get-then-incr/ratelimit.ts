import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { HttpError } from './errors.js';

/** A counter per key and window in Redis: read it, refuse if it is full, otherwise add one. */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  failMode: 'open' | 'closed';
}

export function rateLimit(redis: Redis, opts: RateLimitOptions) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    const key = `ratelimit:count:${createHash('sha256')
      .update(res.locals.apiKey as string)
      .digest('hex')
      .slice(0, 32)}`;
    let used: number;
    let ttl: number;
    try {
      used = Number((await redis.get(key)) ?? 0);
      if (used < opts.limit) {
        used++;
        if ((await redis.incr(key)) === 1) await redis.pexpire(key, opts.windowMs);
      } else used = opts.limit + 1;
      ttl = await redis.pttl(key);
    } catch (err) {
      console.error(`rate limiter unavailable (failing ${opts.failMode}):`, (err as Error).message);
      if (opts.failMode === 'open') return next();
      throw new HttpError(503, 'rate limiter unavailable');
    }
    const resetS = String(Math.max(1, Math.ceil(ttl / 1000)));
    res.set('RateLimit-Limit', String(opts.limit));
    res.set('RateLimit-Remaining', String(Math.max(0, opts.limit - used)));
    res.set('RateLimit-Reset', resetS);
    if (used > opts.limit) {
      res.set('Retry-After', resetS);
      throw new HttpError(429, 'rate limit exceeded');
    }
    next();
  };
}
