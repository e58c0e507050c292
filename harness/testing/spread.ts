/**
 * Whether calls that failed together retried together. Without jitter, every wait is the same, so
 * the retries come back in a burst, in the order the failures were sent (a busy machine may stretch
 * the burst, but keeps its order); with random jitter they spread out, in no particular order.
 */

export interface RetrySpread {
  /** Each retry's delay from the shared failure, sorted, in ms. */
  delays: number[];
  /** Latest minus earliest delay once `trim` are dropped at each end (one straggler is not a spread), in ms. */
  spread: number;
  /** Kendall's tau between the order of the failures and the order of the retries: about 1 for equal waits, about 0 for random ones. */
  tau: number;
}

/** Kendall's tau-a of two equally long series: (concordant − discordant pairs) / all pairs; ties count as neither. */
export function kendallTau(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length) throw new Error(`kendallTau: ${xs.length} values against ${ys.length}`);
  const n = xs.length;
  if (n < 2) throw new Error('kendallTau: needs at least two pairs');
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const s = Math.sign(xs[i]! - xs[j]!) * Math.sign(ys[i]! - ys[j]!);
      if (s > 0) concordant++;
      else if (s < 0) discordant++;
    }
  return (concordant - discordant) / ((n * (n - 1)) / 2);
}

/**
 * One burst's retries: `failedRank[i]` is the place of call i's failure in the order the failures
 * were sent, `delayMs[i]` the time from the shared failure to call i's retry.
 */
export function retrySpread(failedRank: readonly number[], delayMs: readonly number[], { trim = 2 } = {}): RetrySpread {
  if (delayMs.length <= 2 * trim) throw new Error(`retrySpread: ${delayMs.length} retries leave none once ${trim} are trimmed at each end`);
  const delays = [...delayMs].sort((a, b) => a - b);
  return { delays, spread: delays[delays.length - 1 - trim]! - delays[trim]!, tau: kendallTau(failedRank, delayMs) };
}

/**
 * For a stub: holds the first call of each member of a group, and fails them all at the same moment,
 * once every member has called (or on release()). Calls of a member that come after the release are
 * failed at once; later calls of a member are not the burst's (take() says false).
 */
export class FailTogether {
  private readonly waiting: (() => void)[] = [];
  private readonly seen = new Set<string>();
  /** performance.now() when the held failures were sent. */
  releasedAt: number | undefined;

  constructor(
    private readonly size: number,
    private readonly isMember: (key: string) => boolean,
  ) {}

  /** Takes the call when it is a member's first: `fail` answers it, now or at the release. */
  take(key: string, fail: () => void): boolean {
    if (!this.isMember(key) || this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.releasedAt !== undefined) fail();
    else {
      this.waiting.push(fail);
      if (this.waiting.length === this.size) this.release();
    }
    return true;
  }

  /** Fails every held call now (once); returns the moment it did. */
  release(): number {
    if (this.releasedAt === undefined) {
      this.releasedAt = performance.now();
      for (const fail of this.waiting.splice(0)) fail();
    }
    return this.releasedAt;
  }

  /** The members whose first calls were taken, in the order they came. */
  get order(): string[] {
    return [...this.seen];
  }

  /** How the members' retries came back: `retriedAt[i]` is when member `keys[i]` retried (performance.now()). */
  retries(keys: readonly string[], retriedAt: readonly number[], opts?: { trim?: number }): RetrySpread {
    const rank = new Map(this.order.map((key, i) => [key, i]));
    const missing = keys.filter((key) => !rank.has(key));
    if (missing.length) throw new Error(`FailTogether: ${missing.length} of the keys never called (${missing.slice(0, 3).join(', ')})`);
    const releasedAt = this.release();
    return retrySpread(
      keys.map((key) => rank.get(key)!),
      retriedAt.map((at) => at - releasedAt),
      opts,
    );
  }
}

/**
 * Of several bursts, the narrowest and the most ordered: each must pass, since a machine busy
 * enough to spread one burst of equal waits by chance rarely does it twice.
 */
export function worstOf(runs: readonly RetrySpread[]): { narrowest: RetrySpread; inOrder: RetrySpread } {
  if (!runs.length) throw new Error('worstOf: no bursts');
  return {
    narrowest: runs.reduce((a, b) => (b.spread < a.spread ? b : a)),
    inOrder: runs.reduce((a, b) => (b.tau > a.tau ? b : a)),
  };
}
