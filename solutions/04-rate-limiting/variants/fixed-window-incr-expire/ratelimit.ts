import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { HttpError } from './errors.js';

/**
 * A fixed window per key in Redis: INCR a counter and, on the first request of a window, give it
 * a TTL of one window, in one MULTI. The count INCR returns is the decision.
 */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  failMode: 'open' | 'closed';
}

export function rateLimit(redis: Redis, opts: RateLimitOptions) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    const key = `ratelimit:window:${createHash('sha256')
      .update(res.locals.apiKey as string)
      .digest('hex')
      .slice(0, 32)}`;
    let count: number;
    let ttl: number;
    try {
      const replies = await redis.multi().incr(key).pexpire(key, opts.windowMs, 'NX').pttl(key).exec();
      if (!replies) throw new Error('transaction aborted');
      const failed = replies.find(([e]) => e);
      if (failed) throw failed[0];
      count = replies[0]![1] as number;
      ttl = replies[2]![1] as number;
    } catch (err) {
      console.error(`rate limiter unavailable (failing ${opts.failMode}):`, (err as Error).message);
      if (opts.failMode === 'open') return next();
      throw new HttpError(503, 'rate limiter unavailable');
    }
    const resetS = String(Math.max(1, Math.ceil(ttl / 1000)));
    res.set('RateLimit-Limit', String(opts.limit));
    res.set('RateLimit-Remaining', String(Math.max(0, opts.limit - count)));
    res.set('RateLimit-Reset', resetS);
    if (count > opts.limit) {
      res.set('Retry-After', resetS);
      throw new HttpError(429, 'rate limit exceeded');
    }
    next();
  };
}
