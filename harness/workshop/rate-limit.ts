/**
 * Token buckets per client key (an IP address, an attendee): `capacity` requests at once, then
 * `perSecond` more each second. In memory: one workshop server is one process, and a restart
 * forgetting the buckets only lets a client burst once more.
 */
export interface Limit {
  capacity: number;
  perSecond: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: Limit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for key: 0 when allowed, else the seconds until one is free (for Retry-After). */
  take(key: string): number {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.limit.capacity, at: t };
    b.tokens = Math.min(this.limit.capacity, b.tokens + ((t - b.at) / 1000) * this.limit.perSecond);
    b.at = t;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) this.prune(t);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond));
  }

  /** Forgets full buckets (clients quiet long enough to have refilled). */
  private prune(t: number): void {
    for (const [k, b] of this.buckets)
      if (b.tokens + ((t - b.at) / 1000) * this.limit.perSecond >= this.limit.capacity) this.buckets.delete(k);
  }
}

export interface Limits {
  /** Joins per client IP: a room behind one NAT address still joins in a minute. */
  joins: Limit;
  /** Report requests per attendee (each carries up to MAX_BATCH reports). */
  reports: Limit;
  /** Every API request per client IP, authenticated or not. */
  requests: Limit;
}

export const DEFAULT_LIMITS: Limits = {
  joins: { capacity: 40, perSecond: 0.5 },
  reports: { capacity: 20, perSecond: 0.5 },
  requests: { capacity: 600, perSecond: 100 },
};
