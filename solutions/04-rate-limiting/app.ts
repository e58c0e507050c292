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
  // The limiter sits on every request's path: a Redis that is slow or gone must cost a request a
  // bounded, small wait, never a hang.
  const redis = new Redis(config.redisUrl ?? 'redis://127.0.0.1:6379', {
    commandTimeout: 1_000, // no answer within a second counts as "Redis unavailable"
    enableOfflineQueue: false, // while disconnected, fail at once instead of queueing
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1_000), // keep reconnecting, at most a second apart
  });
  let redisWasDown = false;
  redis.on('error', (err) => {
    if (!redisWasDown) console.error('redis unavailable:', err.message);
    redisWasDown = true;
  });
  redis.on('ready', () => {
    if (redisWasDown) console.error('redis available again');
    redisWasDown = false;
  });
  // Without the offline queue, commands fail until the first connection is ready: wait for it
  // (briefly) so that the first requests are counted.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });

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
