import type pg from 'pg';
import { credit, creditedEvent, fulfil, type PaymentEvent } from './credits.js';
import { enqueueDelivery } from './notify.js';

/** An instance that claimed an event and did not finish it within this long is presumed dead. */
const LEASE_SECONDS = 60;
/** Events one instance processes at once. */
const CONCURRENCY = 8;

/**
 * Received provider events, processed after the provider has had its answer. receive() is the
 * dedupe (a primary key on the event id, shared by every instance); workers claim unprocessed
 * events and process them: fulfilment, then the credit and our own webhook in one transaction.
 */
export class Inbox {
  private running = 0;
  private closed = false;
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly processingMs: number,
    private readonly sendWebhooks: boolean,
    private readonly onCommitted: () => void,
  ) {
    // Events left behind by an instance that stopped mid-way, or received while this one was busy.
    this.sweep = setInterval(() => this.kick(), 1_000);
    this.sweep.unref();
  }

  /** Records the event; false when it was received before (by any instance). */
  async receive(event: PaymentEvent): Promise<boolean> {
    const { rowCount } = await this.pool.query('INSERT INTO inbox (event_id, payload) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING', [
      event.id,
      JSON.stringify(event),
    ]);
    if (rowCount) this.kick();
    return rowCount === 1;
  }

  /** Starts one more worker, unless enough are running; a worker that claims an event kicks the next. */
  kick(): void {
    if (this.closed || this.running >= CONCURRENCY) return;
    this.running++;
    this.work()
      .catch((err: Error) => console.error('inbox worker failed', err.message))
      .finally(() => this.running--);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweep);
  }

  private async work(): Promise<void> {
    while (!this.closed) {
      const { rows } = await this.pool.query<{ payload: PaymentEvent }>(
        `UPDATE inbox SET claimed_at = now()
          WHERE event_id = (SELECT event_id FROM inbox
                             WHERE processed_at IS NULL AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => $1))
                             ORDER BY received_at LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING payload`,
        [LEASE_SECONDS],
      );
      const event = rows[0]?.payload;
      if (!event) return;
      this.kick(); // there may be more: let another worker look
      await fulfil(event, this.processingMs);
      await this.complete(event);
    }
  }

  /** The credit, the mark and our webhook commit together, once: a second processing of the event changes nothing. */
  private async complete(event: PaymentEvent): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const done = await client.query('UPDATE inbox SET processed_at = now() WHERE event_id = $1 AND processed_at IS NULL', [event.id]);
      if (done.rowCount === 1) {
        await credit(client, event);
        if (this.sendWebhooks) await enqueueDelivery(client, creditedEvent(event));
      }
      await client.query('COMMIT');
      if (done.rowCount === 1) this.onCommitted();
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
