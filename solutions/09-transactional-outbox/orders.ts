/**
 * The orders use cases: place and cancel. Each is one Postgres transaction that writes the change
 * and the event announcing it (a row in the outbox); the relay (relay.ts) publishes it afterwards.
 * The event exists if and only if the change committed.
 */
import type pg from 'pg';
import { HttpError } from './errors.js';
import type { EventType } from './events.js';

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

const COLUMNS = 'id, customer, sku, quantity, status, version';

const toOrder = (r: Record<string, unknown>): Order => ({
  id: Number(r.id),
  customer: r.customer as string,
  sku: r.sku as string,
  quantity: r.quantity as number,
  status: r.status as Order['status'],
});

/** Writes the event into the outbox, in the caller's transaction: it commits or rolls back with the change. */
async function addToOutbox(c: pg.PoolClient, type: EventType, row: Record<string, unknown>): Promise<void> {
  const payload = { orderId: Number(row.id), sku: row.sku, quantity: row.quantity, version: row.version };
  await c.query('INSERT INTO outbox (type, payload) VALUES ($1, $2)', [type, payload]);
}

export async function placeOrder(pool: pg.Pool, input: { customer: string; sku: string; quantity: number }): Promise<Order> {
  // Stock is checked when the transaction commits (a deferred constraint on products): an order
  // for more than is left fails at COMMIT with 409, and nothing of it is kept, its event included.
  return inTransaction(pool, async (c) => {
    const reserved = await c.query('UPDATE products SET stock = stock - $2 WHERE sku = $1', [input.sku, input.quantity]);
    if (reserved.rowCount === 0) throw new HttpError(400, `no product ${input.sku}`);
    const { rows } = await c.query(`INSERT INTO orders (customer, sku, quantity) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [
      input.customer,
      input.sku,
      input.quantity,
    ]);
    await addToOutbox(c, 'order.placed', rows[0]);
    return toOrder(rows[0]);
  });
}

export async function cancelOrder(pool: pg.Pool, id: number): Promise<Order> {
  return inTransaction(pool, async (c) => {
    const { rows } = await c.query(
      `UPDATE orders SET status = 'cancelled', version = version + 1 WHERE id = $1 AND status = 'placed' RETURNING ${COLUMNS}`,
      [id],
    );
    if (!rows[0]) {
      const exists = await c.query('SELECT 1 FROM orders WHERE id = $1', [id]);
      throw new HttpError(exists.rowCount ? 409 : 404, exists.rowCount ? `order ${id} is already cancelled` : `no order ${id}`);
    }
    await c.query('UPDATE products SET stock = stock + $2 WHERE sku = $1', [rows[0].sku, rows[0].quantity]);
    await addToOutbox(c, 'order.cancelled', rows[0]);
    return toOrder(rows[0]);
  });
}

export async function getOrder(pool: pg.Pool, id: number): Promise<Order | undefined> {
  const { rows } = await pool.query('SELECT id, customer, sku, quantity, status FROM orders WHERE id = $1', [id]);
  return rows[0] ? toOrder(rows[0]) : undefined;
}
