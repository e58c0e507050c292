import type pg from 'pg';
import { sign } from './signature.js';

export interface Subscriber {
  url: string;
  secret: string;
}

export interface DeliveryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The wait before the first retry; each retry waits twice as long as the one before. */
  retryBaseMs: number;
  /** How long one attempt may take. */
  timeoutMs: number;
}

/** An instance that took a delivery and did not record its outcome within this long is presumed dead. */
const LEASE_SECONDS = 60;

/** Adds a webhook to send, inside the caller's transaction (the outbox). */
export async function enqueueDelivery(client: pg.PoolClient, event: { id: string }): Promise<void> {
  await client.query('INSERT INTO deliveries (event_id, payload) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING', [
    event.id,
    JSON.stringify(event),
  ]);
}

/**
 * The wait before retry n (n = 1 after the first failure): retryBaseMs × 2^(n−1), plus up to half
 * of that again at random, so that deliveries that failed together do not retry together.
 */
export function retryDelayMs(n: number, retryBaseMs: number): number {
  const nominal = retryBaseMs * 2 ** (n - 1);
  return Math.round(nominal * (1 + Math.random() * 0.5));
}

interface DueDelivery {
  id: string;
  event_id: string;
  payload: string;
  attempts: number;
}

/**
 * Sends what the outbox holds: every due delivery, signed afresh on each attempt, retried with
 * backoff and jitter up to `attempts`, then kept as failed for replay. Every instance runs one; a
 * delivery is taken by one of them at a time (FOR UPDATE SKIP LOCKED and a lease).
 */
export class Deliveries {
  private busy = false;
  private again = false;
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly subscriber: Subscriber,
    private readonly opts: DeliveryOptions,
  ) {
    // Deliveries due while this instance was idle (another instance scheduled them, or died).
    this.every(1_000);
  }

  /** Sends whatever is due now. */
  kick(): void {
    if (this.closed) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.runDue()
      .catch((err: Error) => console.error('delivery worker failed', err.message))
      .finally(() => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async list(status?: string): Promise<unknown[]> {
    const { rows } = await this.pool.query(
      `SELECT id, event_id AS "eventId", status, attempts, last_error AS "lastError", next_attempt_at AS "nextAttemptAt"
         FROM deliveries WHERE $1::text IS NULL OR status = $1 ORDER BY id`,
      [status ?? null],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  /** Sends a failed delivery again, with a fresh set of attempts. False when no failed delivery has that id. */
  async replay(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL WHERE id = $1 AND status = 'failed'`,
      [id],
    );
    if (rowCount) this.kick();
    return rowCount === 1;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
  }

  private every(ms: number): void {
    const t = setInterval(() => this.kick(), ms);
    t.unref();
    this.timers.add(t);
  }

  private later(ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.kick();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private async runDue(): Promise<void> {
    for (;;) {
      const { rows } = await this.pool.query<DueDelivery>(
        `UPDATE deliveries SET next_attempt_at = now() + make_interval(secs => $1)
          WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at LIMIT 10 FOR UPDATE SKIP LOCKED)
          RETURNING id, event_id, payload, attempts`,
        [LEASE_SECONDS],
      );
      if (!rows.length) return;
      await Promise.all(rows.map((d) => this.attempt(d)));
    }
  }

  private async attempt(d: DueDelivery): Promise<void> {
    const timestamp = Math.floor(Date.now() / 1000);
    let error: string | undefined;
    try {
      const res = await fetch(this.subscriber.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': d.event_id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': sign(this.subscriber.secret, timestamp, d.payload),
        },
        body: d.payload,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) error = `the subscriber answered ${res.status}`;
    } catch (err) {
      error = `the subscriber could not be reached: ${(err as Error).message}`;
    }
    const attempts = d.attempts + 1;
    if (!error) {
      await this.pool.query(`UPDATE deliveries SET status = 'delivered', attempts = $2, last_error = NULL WHERE id = $1`, [d.id, attempts]);
      return;
    }
    if (attempts >= this.opts.attempts) {
      console.error(`webhook ${d.event_id} failed ${attempts} times, kept for replay: ${error}`);
      await this.pool.query(`UPDATE deliveries SET status = 'failed', attempts = $2, last_error = $3 WHERE id = $1`, [
        d.id,
        attempts,
        error,
      ]);
      return;
    }
    const delay = retryDelayMs(attempts, this.opts.retryBaseMs);
    await this.pool.query(
      `UPDATE deliveries SET attempts = $2, last_error = $3, next_attempt_at = now() + make_interval(secs => $4) WHERE id = $1`,
      [d.id, attempts, error, delay / 1000],
    );
    this.later(delay);
  }
}
