/** The orders use cases: place and cancel, each one Postgres transaction, then an event for shipping. */
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { HttpError } from './errors.js';
import { publish } from './events.js';
import type { Settings } from './settings.js';

export interface Order {
  id: number;
  customer: string;
  sku: string;
  quantity: number;
  status: 'placed' | 'cancelled';
}

const OUT_OF_STOCK = '23514'; // check_violation, raised by the stock check when the transaction commits

async function inTransaction<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((err as { code?: string }).code === OUT_OF_STOCK) throw new HttpError(409, (err as Error).message);
    throw err;
  } finally {
    client.release();
  }
}

const toOrder = (r: Record<string, unknown>): Order => ({
  id: Number(r.id),
  customer: r.customer as string,
  sku: r.sku as string,
  quantity: r.quantity as number,
  status: r.status as Order['status'],
});

export async function placeOrder(
  pool: pg.Pool,
  redis: Redis,
  settings: Settings,
  input: { customer: string; sku: string; quantity: number },
): Promise<Order> {
  // Stock is checked when the transaction commits (a deferred constraint on products): an order
  // for more than is left fails at COMMIT with 409, and nothing of it is kept.
  const order = await inTransaction(pool, async (c) => {
    const reserved = await c.query('UPDATE products SET stock = stock - $2 WHERE sku = $1', [input.sku, input.quantity]);
    if (reserved.rowCount === 0) throw new HttpError(400, `no product ${input.sku}`);
    const { rows } = await c.query(
      'INSERT INTO orders (customer, sku, quantity) VALUES ($1, $2, $3) RETURNING id, customer, sku, quantity, status',
      [input.customer, input.sku, input.quantity],
    );
    return toOrder(rows[0]);
  });
  // TODO: the order is committed; if this publish fails (Redis blips) or the process dies before it
  // runs, shipping never hears of the order. Publishing before COMMIT is no better: the commit can
  // still fail (out of stock), and shipping would ship an order that does not exist.
  try {
    await publish(redis, settings.stream, { type: 'order.placed', orderId: order.id, sku: order.sku, quantity: order.quantity });
  } catch (err) {
    console.error(`order ${order.id}: publishing order.placed failed:`, (err as Error).message);
  }
  return order;
}

export async function cancelOrder(pool: pg.Pool, redis: Redis, settings: Settings, id: number): Promise<Order> {
  const order = await inTransaction(pool, async (c) => {
    const { rows } = await c.query(
      `UPDATE orders SET status = 'cancelled' WHERE id = $1 AND status = 'placed' RETURNING id, customer, sku, quantity, status`,
      [id],
    );
    if (!rows[0]) {
      const exists = await c.query('SELECT 1 FROM orders WHERE id = $1', [id]);
      throw new HttpError(exists.rowCount ? 409 : 404, exists.rowCount ? `order ${id} is already cancelled` : `no order ${id}`);
    }
    await c.query('UPDATE products SET stock = stock + $2 WHERE sku = $1', [rows[0].sku, rows[0].quantity]);
    return toOrder(rows[0]);
  });
  // TODO: the same dual write as placeOrder's.
  try {
    await publish(redis, settings.stream, { type: 'order.cancelled', orderId: order.id, sku: order.sku, quantity: order.quantity });
  } catch (err) {
    console.error(`order ${order.id}: publishing order.cancelled failed:`, (err as Error).message);
  }
  return order;
}

export async function getOrder(pool: pg.Pool, id: number): Promise<Order | undefined> {
  const { rows } = await pool.query('SELECT id, customer, sku, quantity, status FROM orders WHERE id = $1', [id]);
  return rows[0] ? toOrder(rows[0]) : undefined;
}
