/**
 * Shipping: a consumer in the group settings.group on the orders stream. For order.placed it books
 * a shipment (settings.bookingMs with the carrier, then a row in shipments); for order.cancelled it
 * cancels the order's shipment. Events a crashed consumer read and never acknowledged are taken
 * over by another consumer once idle for claimIdleMs, so an event can arrive more than once, and
 * a consumer acknowledges (XACK) an event only once its effect has committed.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { parseEntry, type OrderEvent } from './events.js';
import { shippingRedis } from './redis.js';
import type { Settings } from './settings.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Entry = [id: string, fields: string[]];

/**
 * Applies one event exactly once in effect: its id goes into processed_events in the same
 * transaction as its effect, so a copy (a redelivery, a relay's re-send) finds it there and changes
 * nothing. Within one order, an event never overwrites a newer one (versions), so order.cancelled
 * applied before a late order.placed still wins.
 */
async function apply(pool: pg.Pool, event: OrderEvent, settings: Settings): Promise<void> {
  const seen = await pool.query('SELECT 1 FROM processed_events WHERE event_id = $1', [event.id]);
  if (seen.rowCount) return; // a copy: already applied, and the carrier already called
  if (event.type === 'order.placed' && settings.bookingMs > 0) {
    const known = await pool.query('SELECT 1 FROM shipments WHERE order_id = $1', [event.orderId]);
    if (!known.rowCount) await sleep(settings.bookingMs); // the carrier's booking call
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const fresh = await client.query('INSERT INTO processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING', [event.id]);
    if (fresh.rowCount === 1) {
      const status = event.type === 'order.placed' ? 'booked' : 'cancelled';
      await client.query(
        `INSERT INTO shipments (order_id, sku, quantity, status, version) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version
         WHERE shipments.version < EXCLUDED.version`,
        [event.orderId, event.sku, event.quantity, status, event.version],
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export function startShipping(databaseUrl: string, redisUrl: string, settings: Settings): { close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', (err) => console.error('idle pg client error', err));
  const redis = shippingRedis(redisUrl);
  const consumer = `shipping-${process.pid}-${randomUUID().slice(0, 8)}`;
  let stopping = false;

  async function next(): Promise<Entry[]> {
    // First whatever a dead consumer left pending for too long, then new events.
    const claimed = (await redis.xautoclaim(settings.stream, settings.group, consumer, settings.claimIdleMs, '0-0', 'COUNT', 10)) as [
      string,
      Entry[],
    ];
    if (claimed[1].length > 0) return claimed[1];
    const read = (await redis.xreadgroup(
      'GROUP',
      settings.group,
      consumer,
      'COUNT',
      10,
      'BLOCK',
      settings.blockMs,
      'STREAMS',
      settings.stream,
      '>',
    )) as Array<[string, Entry[]]> | null;
    return read?.[0]?.[1] ?? [];
  }

  async function loop(): Promise<void> {
    try {
      await redis.xgroup('CREATE', settings.stream, settings.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    while (!stopping) {
      let entries: Entry[];
      try {
        entries = await next();
      } catch (err) {
        console.error('reading the stream failed', (err as Error).message);
        await sleep(settings.pollMs);
        continue;
      }
      for (const [id, fields] of entries) {
        if (!fields) continue; // deleted from the stream while pending
        try {
          await apply(pool, parseEntry(fields), settings);
          await redis.xack(settings.stream, settings.group, id);
        } catch (err) {
          console.error(`event ${id} failed; it stays pending and is taken again later:`, (err as Error).message);
        }
      }
    }
  }

  const running = loop().catch((err) => console.error('shipping stopped', err));
  return {
    close: async () => {
      stopping = true;
      await running;
      redis.disconnect();
      await pool.end();
    },
  };
}
