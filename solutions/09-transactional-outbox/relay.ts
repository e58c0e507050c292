/**
 * The outbox relay, the orders service's own background process: it publishes committed outbox
 * rows to the stream, oldest first, and deletes each only once Redis has taken it. Several relays
 * share the outbox: each locks the rows it works on and skips rows another holds (SKIP LOCKED). A
 * relay that dies after XADD and before its COMMIT leaves the rows in place, so they are published
 * again: delivery is at least once, and shipping applies each event once.
 */
import pg from 'pg';
import { entryFields, type OrderEvent } from './events.js';
import { ordersRedis } from './redis.js';
import type { Settings } from './settings.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const BATCH = 100;

export function startRelay(databaseUrl: string, redisUrl: string, settings: Settings): { close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', (err) => console.error('idle pg client error', err));
  const redis = ordersRedis(redisUrl, settings);
  let stopping = false;

  /** Publishes one batch; returns how many rows it removed from the outbox. */
  async function relayBatch(): Promise<number> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        `SELECT id, event_id, type, payload FROM outbox ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
      );
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const pipeline = redis.pipeline();
      for (const r of rows) {
        const event = { id: r.event_id, type: r.type, ...r.payload } as OrderEvent;
        pipeline.xadd(settings.stream, '*', ...entryFields(event));
      }
      const results = (await pipeline.exec()) ?? [];
      // Only what Redis took leaves the outbox, and only in order: the first failure ends the batch.
      let published = 0;
      while (published < rows.length && results[published] && !results[published]![0]) published++;
      if (published < rows.length) {
        const err = results[published]?.[0];
        console.error(`relay: XADD failed after ${published} of ${rows.length} events:`, err?.message ?? 'no answer');
      }
      if (published > 0) await client.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.slice(0, published).map((r) => r.id)]);
      await client.query('COMMIT');
      return published;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      let moved = 0;
      try {
        moved = await relayBatch();
      } catch (err) {
        console.error('relay: publishing the outbox failed; the rows stay for the next pass:', (err as Error).message);
      }
      if (moved < BATCH) await sleep(settings.pollMs);
    }
  }

  const running = loop();
  return {
    close: async () => {
      stopping = true;
      await running;
      redis.disconnect();
      await pool.end();
    },
  };
}
