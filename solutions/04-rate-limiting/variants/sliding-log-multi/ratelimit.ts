import { createHash, randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { HttpError } from './errors.js';

/**
 * A sliding log in a sorted set, in a MULTI transaction: drop entries older than the window, log
 * this request, count. Every attempt is logged, refused ones too, so a client that keeps
 * hammering stays refused until it slows down.
 */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  failMode: 'open' | 'closed';
}

export function rateLimit(redis: Redis, opts: RateLimitOptions) {
  async function check(apiKey: string) {
    const key = `ratelimit:log:${createHash('sha256').update(apiKey).digest('hex').slice(0, 32)}`;
    const now = Date.now();
    const replies = await redis
      .multi()
      .zremrangebyscore(key, '-inf', now - opts.windowMs)
      .zadd(key, now, `${now}:${randomUUID()}`)
      .zrange(key, 0, '-1')
      .pexpire(key, opts.windowMs)
      .exec();
    if (!replies) throw new Error('transaction aborted');
    const [err, members] = replies[2]!;
    if (err) throw err;
    // Members are "<timestamp>:<uuid>", so the log, oldest first, is also a list of timestamps.
    const scores = (members as string[]).map((m) => Number(m.split(':')[0]));
    const count = scores.length;
    // The next request passes once no more than limit - 1 logged attempts remain in the window.
    const blocking = scores[count - opts.limit];
    const retryAfterMs = count > opts.limit && blocking !== undefined ? blocking + opts.windowMs - now : 0;
    const resetMs = (scores[0] ?? now) + opts.windowMs - now;
    return { allowed: count <= opts.limit, remaining: Math.max(0, opts.limit - count), retryAfterMs, resetMs };
  }

  return async (_req: Request, res: Response, next: NextFunction) => {
    let d: Awaited<ReturnType<typeof check>>;
    try {
      d = await check(res.locals.apiKey as string);
    } catch (err) {
      console.error(`rate limiter unavailable (failing ${opts.failMode}):`, (err as Error).message);
      if (opts.failMode === 'open') return next();
      throw new HttpError(503, 'rate limiter unavailable');
    }
    res.set('RateLimit-Limit', String(opts.limit));
    res.set('RateLimit-Remaining', String(d.remaining));
    res.set('RateLimit-Reset', String(Math.ceil(d.resetMs / 1000)));
    if (!d.allowed) {
      res.set('Retry-After', String(Math.max(1, Math.ceil(d.retryAfterMs / 1000))));
      throw new HttpError(429, 'rate limit exceeded');
    }
    next();
  };
}
