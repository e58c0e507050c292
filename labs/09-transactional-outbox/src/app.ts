import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { z } from 'zod';
import { HttpError } from './errors.js';
import { cancelOrder, getOrder, placeOrder } from './orders.js';
import { ordersRedis } from './redis.js';
import { Settings } from './settings.js';

/** The background processes (the orders service's own, and shipping's consumer): see worker.ts. */
export { createWorker } from './worker.js';

export interface Config {
  databaseUrl: string;
  redisUrl?: string;
  settings?: Record<string, unknown>;
}

const OrderBody = z.object({
  customer: z.string().min(1).max(64),
  sku: z.string().min(1).max(64),
  quantity: z.number().int().positive().max(1_000),
});

const orderId = (raw: string) => {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(400, 'order id must be a positive integer');
  return id;
};

/** The orders API: takes and cancels orders; shipping learns of them from the events it publishes. */
export function createApp(config: Config) {
  const settings = Settings.parse(config.settings ?? {});
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err));
  const redis = ordersRedis(config.redisUrl ?? 'redis://127.0.0.1:6379', settings);

  const app = express();
  app.use(express.json());

  app.get('/health', async (_req, res) => {
    await pool.query('SELECT 1');
    res.json({ ok: true });
  });

  app.post('/orders', async (req, res) => {
    const parsed = OrderBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, `invalid order: ${parsed.error.issues[0]?.message}`);
    res.status(201).json(await placeOrder(pool, redis, settings, parsed.data));
  });

  app.post('/orders/:id/cancel', async (req, res) => {
    res.json(await cancelOrder(pool, redis, settings, orderId(req.params.id)));
  });

  app.get('/orders/:id', async (req, res) => {
    const order = await getOrder(pool, orderId(req.params.id));
    if (!order) throw new HttpError(404, 'order not found');
    res.json(order);
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return {
    app,
    close: async () => {
      redis.disconnect();
      await pool.end();
    },
  };
}
