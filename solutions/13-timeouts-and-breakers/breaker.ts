/**
 * A circuit breaker. Closed: calls go through, consecutive failures are counted. At `failures`
 * failures in a row it opens: calls fail at once without touching the network. After `openMs` it
 * half-opens: exactly one trial call goes through; its success closes the breaker, its failure
 * opens it again for another `openMs`.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;

  constructor(
    private readonly failures: number,
    private readonly openMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a call may go out now. In half-open, true for the one trial only. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && this.now() - this.openedAt >= this.openMs) {
      this.state = 'half-open';
      return true; // the trial
    }
    return false;
  }

  success(): void {
    this.state = 'closed';
    this.consecutiveFailures = 0;
  }

  failure(): void {
    this.consecutiveFailures++;
    if (this.state === 'half-open' || this.consecutiveFailures >= this.failures) {
      this.state = 'open';
      this.openedAt = this.now();
    }
  }

  get current(): BreakerState {
    return this.state;
  }
}
