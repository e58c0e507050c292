import express, { type NextFunction, type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { z } from 'zod';
import { requireApiKey } from './auth.js';
import { HttpError } from './errors.js';
import { findPostcode } from './postcodes.js';
import { rateLimit } from './ratelimit.js';

export interface Config {
  databaseUrl: string;
  redisUrl?: string;
  settings?: Record<string, unknown>;
}

const Settings = z.object({
  /** Requests each customer may make per window. */
  limit: z.number().int().positive().default(100),
  /** The window, in milliseconds. */
  windowMs: z.number().int().positive().default(60_000),
  /**
   * What the limiter does when it cannot reach its store: "open" lets the request through,
   * "closed" refuses it with 503. The runbook (OPS-88) says this is ours to choose per deployment.
   */
  failMode: z.enum(['open', 'closed']).default('open'),
});

export async function createApp(config: Config) {
  const settings = Settings.parse(config.settings ?? {});
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err));
  // The limiter bounds its own wait on Redis (see ratelimit.ts); the client just must not keep
  // commands queued for long while it is disconnected.
  const redis = new Redis(config.redisUrl ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  redis.on('error', (err) => console.error('redis error:', err.message));

  const app = express();

  app.get('/health', async (_req, res) => {
    await pool.query('SELECT 1');
    const redisOk = await redis.ping().then(
      () => true,
      () => false,
    );
    res.status(redisOk ? 200 : 503).json({ ok: redisOk, postgres: 'ok', redis: redisOk ? 'ok' : 'unavailable' });
  });

  app.use('/v1', requireApiKey(pool));
  app.use('/v1', rateLimit(redis, settings));

  app.get('/v1/postcodes/:country/:code', async (req, res) => {
    const { country, code } = req.params;
    const postcode = await findPostcode(pool, country, code);
    if (!postcode) throw new HttpError(404, `no postcode ${code} in ${country.toUpperCase()}`);
    res.json(postcode);
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return {
    app,
    close: async () => {
      await pool.end();
      redis.disconnect();
    },
  };
}
