import type { NextFunction, Request, Response } from 'express';
import { HttpError } from './errors.js';

/**
 * A sliding log per API key, kept in this process: the timestamps of the requests it let through
 * in the last window.
 */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  failMode: 'open' | 'closed';
}

export function rateLimit(opts: RateLimitOptions) {
  const logs = new Map<string, number[]>();

  return (_req: Request, res: Response, next: NextFunction) => {
    const key = res.locals.apiKey as string;
    const now = Date.now();
    const log = (logs.get(key) ?? []).filter((t) => t > now - opts.windowMs);
    logs.set(key, log);
    const allowed = log.length < opts.limit;
    if (allowed) log.push(now);
    const resetMs = (log[0] ?? now) + opts.windowMs - now;
    res.set('RateLimit-Limit', String(opts.limit));
    res.set('RateLimit-Remaining', String(opts.limit - log.length));
    res.set('RateLimit-Reset', String(Math.ceil(resetMs / 1000)));
    if (!allowed) {
      res.set('Retry-After', String(Math.max(1, Math.ceil(resetMs / 1000))));
      return next(new HttpError(429, 'rate limit exceeded'));
    }
    next();
  };
}
