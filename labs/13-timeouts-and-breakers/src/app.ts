import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { z } from 'zod';
import { HttpError } from './errors.js';
import { createInventory } from './inventory.js';
import { createRedis, priceKey } from './redis.js';

export interface Config {
  databaseUrl: string;
  redisUrl?: string;
  settings?: Record<string, unknown>;
}

const Settings = z.object({
  /** The inventory service: GET {inventoryUrl}/stock/:sku → { sku, available }. */
  inventoryUrl: z.url().default('http://127.0.0.1:9'),
  /** How long a checkout may take in all, from the request to the answer (our SLO). */
  checkoutBudgetMs: z.number().int().positive().default(800),
  /** How many times a failed inventory call is retried (so 1 + retries attempts at most). */
  retries: z.number().int().nonnegative().default(2),
  /** The wait before the first retry; each retry waits twice as long as the one before. */
  retryBaseMs: z.number().int().positive().default(100),
  /** Consecutive failed inventory calls after which the circuit breaker opens. */
  breakerFailures: z.number().int().positive().default(5),
  /** How long the breaker stays open before it lets one trial call through (half-open). */
  breakerOpenMs: z.number().int().positive().default(2_000),
  /** What a price write does while Redis cannot be reached: refuse it (CP) or accept it and apply it after (AP). */
  capMode: z.enum(['CP', 'AP']).default('CP'),
  /** How long one Redis command may take. */
  redisTimeoutMs: z.number().int().positive().default(300),
  /** AP mode: how often writes accepted during a partition are tried again. */
  reconcileEveryMs: z.number().int().positive().default(200),
});

const CheckoutBody = z.object({ sku: z.string().min(1).max(100), qty: z.number().int().positive().max(1000) });
const PriceBody = z.object({ cents: z.number().int().nonnegative() });

export function createApp(config: Config) {
  const settings = Settings.parse(config.settings ?? {});
  if (!config.redisUrl) throw new Error('the checkout needs redisUrl (the price store)');
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err.message));
  const redis = createRedis(config.redisUrl);
  const inventory = createInventory({ url: settings.inventoryUrl, retryBaseMs: settings.retryBaseMs });

  const app = express();
  app.use(express.json());

  app.get('/health', async (_req, res) => {
    await pool.query('SELECT 1');
    res.json({ ok: true });
  });

  app.get('/prices/:sku', async (req, res) => {
    const cents = await redis.get(priceKey(req.params.sku));
    if (cents === null) throw new HttpError(404, `no price for ${req.params.sku}`);
    res.json({ sku: req.params.sku, cents: Number(cents) });
  });

  // TODO: capMode is never consulted. During a partition from Redis this neither refuses the write
  // (CP) nor keeps it to apply once Redis is back (AP): it waits, and answers whatever comes first.
  app.put('/prices/:sku', async (req, res) => {
    const parsed = PriceBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'body must be { cents: integer >= 0 }');
    await redis.set(priceKey(req.params.sku), String(parsed.data.cents));
    res.json({ sku: req.params.sku, cents: parsed.data.cents, status: 'written' });
  });

  // TODO: checkoutBudgetMs is our SLO, and nothing here keeps to it.
  app.post('/checkout', async (req, res) => {
    const parsed = CheckoutBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'body must be { sku, qty }');
    const { sku, qty } = parsed.data;
    const cents = await redis.get(priceKey(sku));
    if (cents === null) throw new HttpError(404, `no price for ${sku}`);
    const available = await inventory.available(sku);
    if (available < qty) throw new HttpError(409, `only ${available} of ${sku} in stock`);
    const total = Number(cents) * qty;
    const { rows } = await pool.query(`INSERT INTO orders (sku, qty, total_cents, stock) VALUES ($1, $2, $3, 'confirmed') RETURNING id`, [
      sku,
      qty,
      total,
    ]);
    res.status(201).json({ orderId: Number(rows[0].id), sku, qty, totalCents: total, stock: 'confirmed' });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    if ((err as { type?: string }).type === 'entity.parse.failed') return res.status(400).json({ error: 'body is not valid JSON' });
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
