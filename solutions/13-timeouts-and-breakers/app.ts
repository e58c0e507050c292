import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { z } from 'zod';
import { HttpError } from './errors.js';
import { createInventory, InventoryUnavailable } from './inventory.js';
import { createPrices } from './prices.js';
import { createRedis, priceKey, whenReady } from './redis.js';

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

export async function createApp(config: Config) {
  const settings = Settings.parse(config.settings ?? {});
  if (!config.redisUrl) throw new Error('the checkout needs redisUrl (the price store)');
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err.message));
  const redis = createRedis(config.redisUrl, settings.redisTimeoutMs);
  await whenReady(redis, 2_000);
  const inventory = createInventory({ ...settings, url: settings.inventoryUrl });
  const prices = createPrices(redis, pool, settings.capMode);
  let reconciling = false;
  const reconciler =
    settings.capMode === 'AP'
      ? setInterval(() => {
          if (reconciling) return;
          reconciling = true;
          prices
            .reconcile()
            .then((n) => n > 0 && console.log(`[prices] applied ${n} write(s) accepted during a partition`))
            .catch((err) => console.error('[prices] reconcile failed, will retry:', err.message))
            .finally(() => (reconciling = false));
        }, settings.reconcileEveryMs)
      : undefined;

  /** Reads a price, or refuses with 503 when the price store cannot answer within its time-out. */
  const readPrice = async (sku: string): Promise<string | null> => {
    try {
      return await redis.get(priceKey(sku));
    } catch (err) {
      throw new HttpError(503, `price store unreachable (${(err as Error).message})`);
    }
  };

  const app = express();
  app.use(express.json());

  app.get('/health', async (_req, res) => {
    await pool.query('SELECT 1');
    res.json({ ok: true });
  });

  app.get('/prices/:sku', async (req, res) => {
    const cents = await readPrice(req.params.sku);
    if (cents === null) throw new HttpError(404, `no price for ${req.params.sku}`);
    res.json({ sku: req.params.sku, cents: Number(cents) });
  });

  // CP: 200 written, or 503 refused. AP: 200 written, or 202 accepted and applied after the heal.
  app.put('/prices/:sku', async (req, res) => {
    const parsed = PriceBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'body must be { cents: integer >= 0 }');
    const status = await prices.write(req.params.sku, parsed.data.cents);
    res.status(status === 'written' ? 200 : 202).json({ sku: req.params.sku, cents: parsed.data.cents, status });
  });

  // Every checkout has a deadline (checkoutBudgetMs from now). If inventory cannot confirm the stock
  // by then (slow, failing, or its breaker is open), the order is taken with stock "unconfirmed".
  app.post('/checkout', async (req, res) => {
    const deadline = Date.now() + settings.checkoutBudgetMs;
    const parsed = CheckoutBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'body must be { sku, qty }');
    const { sku, qty } = parsed.data;
    const cents = await readPrice(sku);
    if (cents === null) throw new HttpError(404, `no price for ${sku}`);
    let stock: 'confirmed' | 'unconfirmed' = 'confirmed';
    try {
      const available = await inventory.available(sku, deadline);
      if (available < qty) throw new HttpError(409, `only ${available} of ${sku} in stock`);
    } catch (err) {
      if (!(err instanceof InventoryUnavailable)) throw err;
      stock = 'unconfirmed';
    }
    const total = Number(cents) * qty;
    const { rows } = await pool.query('INSERT INTO orders (sku, qty, total_cents, stock) VALUES ($1, $2, $3, $4) RETURNING id', [
      sku,
      qty,
      total,
      stock,
    ]);
    res.status(201).json({ orderId: Number(rows[0].id), sku, qty, totalCents: total, stock });
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
      if (reconciler) clearInterval(reconciler);
      redis.disconnect();
      await pool.end();
    },
  };
}
