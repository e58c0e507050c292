import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { z } from 'zod';
import { ProductCache } from './cache.js';
import { Catalog } from './catalog.js';
import { HttpError } from './errors.js';
import { createRedis } from './redis.js';

export interface Config {
  databaseUrl: string;
  redisUrl?: string;
  settings?: Record<string, unknown>;
}

const Settings = z.object({
  /** How long a cached product page may be served. */
  cacheTtlSeconds: z.number().int().positive().default(300),
});

const ProductPatch = z
  .object({
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(5_000).optional(),
    priceCents: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'nothing to update');

function productId(raw: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(400, 'product id must be a positive integer');
  return id;
}

export function createApp(config: Config) {
  const settings = Settings.parse(config.settings ?? {});
  if (!config.redisUrl) throw new Error('the catalog needs a redisUrl');

  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err));
  const redis = createRedis(config.redisUrl);
  const catalog = new Catalog(pool, new ProductCache(redis, settings.cacheTtlSeconds));

  const app = express();
  app.use(express.json());

  app.get('/products/:id', async (req, res) => {
    const page = await catalog.getProduct(productId(req.params.id));
    if (!page) throw new HttpError(404, 'product not found');
    res.json(page);
  });

  app.put('/products/:id', async (req, res) => {
    const id = productId(req.params.id);
    const patch = ProductPatch.safeParse(req.body ?? {});
    if (!patch.success) throw new HttpError(400, patch.error.issues[0]?.message ?? 'invalid product');
    const product = await catalog.updateProduct(id, patch.data);
    if (!product) throw new HttpError(404, 'product not found');
    res.json(product);
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    if ((err as { type?: string }).type === 'entity.parse.failed') return res.status(400).json({ error: 'malformed JSON' });
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
