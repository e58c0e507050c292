/**
 * Helpers shared by the outbox tests: start the two services, place orders, and read what each
 * side holds (orders: the orders service's truth; shipments: shipping's view of it).
 */
import { expect } from 'vitest';
import { sleep, type LabContext, type Service, type Workers } from '../../../harness/testing/index.js';

/** A product with plenty of stock, and one with none (an order for it rolls back at COMMIT: 409). */
export const IN_STOCK = 'tea';
export const SOLD_OUT = 'teapot-limited';

export async function seedProducts(lab: LabContext): Promise<void> {
  await lab.db.query('INSERT INTO products (sku, stock) VALUES ($1, 1000000), ($2, 0) ON CONFLICT DO NOTHING', [IN_STOCK, SOLD_OUT]);
}

export interface Deployment {
  orders: Service;
  ordersWorkers: Workers;
  shipping: Workers;
}

/**
 * The orders API (`orders` instances of createApp), the orders service's own background process
 * (createWorker with settings.service 'orders') and shipping's consumers (service 'shipping').
 * `ordersRedisUrl` points the orders side (API and its process) at a fault point, `ordersDatabaseUrl`
 * the API's Postgres.
 */
export async function deploy(
  lab: LabContext,
  o: {
    orders: number;
    ordersWorkers: number;
    shipping: number;
    ordersRedisUrl?: string;
    /** The API's Postgres (its process and shipping keep the direct link). */
    ordersDatabaseUrl?: string;
    settings?: Record<string, unknown>;
  },
): Promise<Deployment> {
  const redisUrl = o.ordersRedisUrl;
  const [orders, ordersWorkers, shipping] = await Promise.all([
    lab.startService({ instances: o.orders, redisUrl, databaseUrl: o.ordersDatabaseUrl, settings: o.settings }),
    lab.startWorkers({ instances: o.ordersWorkers, redisUrl, settings: { ...o.settings, service: 'orders' } }),
    lab.startWorkers({ instances: o.shipping, settings: { ...o.settings, service: 'shipping' } }),
  ]);
  return { orders, ordersWorkers, shipping };
}

/** Places one order through `service` instance `i`; expects 201 with the order's id. */
export async function placeOrder(service: Service, i: number, customer: string, sku = IN_STOCK): Promise<number> {
  const res = await service.http(i).post('/orders', { customer, sku, quantity: 1 });
  expect(res.status, `POST /orders for ${sku} answered ${res.status}: ${res.text}`).toBe(201);
  expect(Number.isSafeInteger(res.body?.id), `POST /orders answered no order id: ${res.text}`).toBe(true);
  return res.body.id;
}

export interface OrderView {
  id: number;
  status: string;
  /** The statuses of its shipments, as shipping holds them. */
  shipments: string[];
}

/** Every order of `customer` that the orders service committed, with shipping's shipments for it. */
export async function ordersWithShipments(lab: LabContext, customer: string): Promise<OrderView[]> {
  const { rows } = await lab.db.query(
    `SELECT o.id, o.status, coalesce(array_agg(s.status ORDER BY s.id) FILTER (WHERE s.order_id IS NOT NULL), '{}') AS shipments
       FROM orders o LEFT JOIN shipments s ON s.order_id = o.id
      WHERE o.customer = $1 GROUP BY o.id ORDER BY o.id`,
    [customer],
  );
  return rows.map((r) => ({ id: Number(r.id), status: r.status, shipments: r.shipments }));
}

/** Shipments for orders the orders service never committed (their transaction rolled back). */
export async function orphanShipments(lab: LabContext): Promise<number[]> {
  const { rows } = await lab.db.query(
    'SELECT DISTINCT s.order_id FROM shipments s WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = s.order_id) ORDER BY 1',
  );
  return rows.map((r) => Number(r.order_id));
}

/** Where shipping's view stands against the orders the service committed. */
export interface Convergence {
  orders: OrderView[];
  /** Placed orders shipping has no booked shipment for (yet). */
  missing: number[];
  /** Orders with more than one shipment. */
  doubled: number[];
  /** Cancelled orders whose shipment is still booked. */
  stillBooked: number[];
  converged: boolean;
}

export function judge(orders: OrderView[]): Convergence {
  const missing = orders.filter((o) => o.status === 'placed' && !o.shipments.includes('booked'));
  const doubled = orders.filter((o) => o.shipments.length > 1);
  const stillBooked = orders.filter((o) => o.status === 'cancelled' && o.shipments.includes('booked'));
  return {
    orders,
    missing: missing.map((o) => o.id),
    doubled: doubled.map((o) => o.id),
    stillBooked: stillBooked.map((o) => o.id),
    converged: missing.length === 0 && doubled.length === 0 && stillBooked.length === 0,
  };
}

/**
 * Polls shipping's view of `customer`'s orders until every placed order is booked and no cancelled
 * one is, or `maxMs` passes; then looks once more after `settleMs`, so that a late duplicate still
 * counts. Returns the verdict and how long it took to get there (ms).
 */
export async function waitForConvergence(
  lab: LabContext,
  customer: string,
  { maxMs, settleMs = 300 }: { maxMs: number; settleMs?: number },
): Promise<Convergence & { ms: number }> {
  const t0 = performance.now();
  let view = judge(await ordersWithShipments(lab, customer));
  // A shipment booked twice stays booked twice: wait only for what is still to come.
  const pending = (v: Convergence) => v.missing.length > 0 || v.stillBooked.length > 0;
  while (pending(view) && performance.now() - t0 < maxMs) {
    await sleep(50);
    view = judge(await ordersWithShipments(lab, customer));
  }
  const ms = performance.now() - t0;
  await sleep(settleMs);
  return { ...judge(await ordersWithShipments(lab, customer)), ms };
}

/** "3 (orders 17, 21, 40)": a count with the first few ids. */
export function some(ids: number[], n = 6): string {
  if (ids.length === 0) return '0';
  return `${ids.length} (order${ids.length > 1 ? 's' : ''} ${ids.slice(0, n).join(', ')}${ids.length > n ? ', …' : ''})`;
}

/** The team's promise (lab.json settings.convergenceBoundMs): shipping reflects a committed order within this long. */
export const boundMs = (lab: LabContext): number => lab.config().settings.convergenceBoundMs as number;

/** Shipping's consumer group on the stream (lab.json settings.group). */
export const groupName = (lab: LabContext): string => lab.config().settings.group as string;

/** The stream the orders service publishes to (lab.json settings.stream). */
export const streamKey = (lab: LabContext): string => lab.config().settings.stream as string;

/**
 * An entry of the orders stream as shipping reads it: the fields `type` and `data` (JSON with
 * orderId, sku, quantity) are the contract between the two services (README); others may be added.
 */
export function readEntry(fields: string[]): { type?: string; data?: { orderId?: unknown } } {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  try {
    return { type: f.type, data: JSON.parse(f.data ?? 'null') ?? undefined };
  } catch {
    return { type: f.type };
  }
}
