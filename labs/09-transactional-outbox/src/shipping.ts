/**
 * Shipping: a consumer in the group settings.group on the orders stream. For order.placed it books
 * a shipment (settings.bookingMs with the carrier, then a row in shipments); for order.cancelled it
 * cancels the order's shipment. Events a crashed consumer read and never acknowledged are taken
 * over by another consumer once idle for claimIdleMs, so an event can arrive more than once.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { parseEntry, type OrderEvent } from './events.js';
import { shippingRedis } from './redis.js';
import type { Settings } from './settings.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Entry = [id: string, fields: string[]];

async function apply(pool: pg.Pool, event: OrderEvent, settings: Settings): Promise<void> {
  if (event.type === 'order.placed') {
    if (settings.bookingMs > 0) await sleep(settings.bookingMs); // the carrier's booking call
    // TODO: an event delivered twice books two shipments.
    await pool.query(`INSERT INTO shipments (order_id, sku, quantity, status) VALUES ($1, $2, $3, 'booked')`, [
      event.orderId,
      event.sku,
      event.quantity,
    ]);
  } else if (event.type === 'order.cancelled') {
    await pool.query(`UPDATE shipments SET status = 'cancelled' WHERE order_id = $1`, [event.orderId]);
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
