import type { NextFunction, Request, Response } from 'express';
import { HttpError } from './errors.js';

/**
 * Rate limiting for the public API: every plan promises `limit` requests per `windowMs`.
 *
 * Written for the launch, when the API ran as a single process. Support ticket API-1187: since
 * the second instance went live, some customers get twice their quota, while everyone behind
 * one corporate proxy gets throttled together; and the docs promise Retry-After, which we never
 * send.
 */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
}

interface Window {
  count: number;
  resetAt: number;
}

export function rateLimit(opts: RateLimitOptions) {
  // TODO: this map lives in one process's memory, and the API runs as two instances.
  const windows = new Map<string, Window>();

  return (req: Request, _res: Response, next: NextFunction) => {
    // TODO: plans are sold per API key, not per IP address.
    const client = req.ip ?? 'unknown';
    const now = Date.now();
    let w = windows.get(client);
    // TODO: a window that resets all at once lets a client send `limit` requests just before the
    // reset and `limit` more just after it.
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + opts.windowMs };
      windows.set(client, w);
    }
    w.count++;
    // TODO: a rejected client is not told when to come back (Retry-After), nor how much quota
    // it has left.
    if (w.count > opts.limit) return next(new HttpError(429, 'rate limit exceeded'));
    next();
  };
}
