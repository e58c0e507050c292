/**
 * The quotes API. `GET /quote` is fast (one query); `GET /report` builds a report for
 * `settings.slowMs` (1.5 s) and then reads the database. The platform runs two instances behind a
 * load balancer that sends traffic only to instances whose `GET /ready` answers 200, and deploys
 * by replacing them one at a time: it starts the new one, waits until it is ready, then sends the
 * old one SIGTERM and, `terminationGracePeriod` later, SIGKILL.
 *
 * Shutdown, in order (SIGTERM):
 *   1. /ready answers 503, while everything else is still served: the load balancer takes the
 *      instance out at its next probe, without a single refused connection.
 *   2. After drainDelayMs (longer than the load balancer takes to notice), stop listening; close
 *      idle kept-alive connections now, and tell the ones still busy to close after their response.
 *   3. When the last request in flight has answered, close the pool (each session ends properly),
 *      then exit 0, well inside the grace period.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Server } from 'node:http';
import pg from 'pg';
import { z } from 'zod';

export interface Config {
  databaseUrl: string;
  settings?: Record<string, unknown>;
}

const Settings = z.object({
  /** The version this instance reports (the tests deploy "blue" and "green"). */
  version: z.string().default('v1'),
  /** How long GET /report works before it answers. */
  slowMs: z.number().int().nonnegative().default(1_500),
  /** After SIGTERM: how long /ready answers 503 while the instance still serves, before it stops listening. */
  drainDelayMs: z.number().int().nonnegative().default(1_000),
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createApp(config: Config) {
  const settings = Settings.parse(config.settings ?? {});
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: 2_000 });
  pool.on('error', (err) => console.error('idle pg client error', err.message));
  let server: Server | undefined;
  let stopping = false;
  /** Responses not yet sent: told to close their connection once the instance stops listening. */
  const pending = new Set<Response>();

  const app = express();

  app.use((_req, res, next) => {
    pending.add(res);
    res.on('close', () => pending.delete(res));
    if (stopping) res.set('connection', 'close');
    next();
  });

  app.get('/live', (_req, res) => {
    res.json({ live: true });
  });

  // Ready means: not stopping, and able to reach the database every route needs.
  app.get('/ready', async (_req, res) => {
    if (stopping) return res.status(503).json({ ready: false, reason: 'shutting down' });
    try {
      await pool.query({ text: 'SELECT 1', query_timeout: 1_000 } as pg.QueryConfig);
    } catch (err) {
      return res.status(503).json({ ready: false, reason: `database: ${(err as Error).message}` });
    }
    res.json({ ready: true, version: settings.version });
  });

  app.get('/quote', async (_req, res) => {
    const { rows } = await pool.query('SELECT price_cents FROM quotes WHERE id = 1');
    res.json({ version: settings.version, priceCents: rows[0].price_cents });
  });

  app.get('/report', async (_req, res) => {
    await sleep(settings.slowMs);
    const { rows } = await pool.query('SELECT count(*)::int AS n, sum(price_cents)::int AS total FROM quotes');
    res.json({ version: settings.version, ...rows[0] });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  async function shutdown(): Promise<void> {
    stopping = true;
    console.log(`${settings.version}: SIGTERM, not ready; draining in ${settings.drainDelayMs} ms`);
    await sleep(settings.drainDelayMs);
    if (server) {
      const closed = new Promise((r) => server!.close(r));
      server.closeIdleConnections();
      for (const res of pending) if (!res.headersSent) res.set('connection', 'close');
      await closed;
    }
    await pool.end();
    console.log(`${settings.version}: drained, exiting`);
    process.exit(0);
  }
  process.once('SIGTERM', () => void shutdown());

  return {
    app,
    /** The listening server, handed over by whoever listens (the harness, or main.ts in production). */
    started: (s: Server) => {
      server = s;
      // Longer than the load balancer's idle time-out (60 s), so that the server never closes a
      // kept-alive connection just as the load balancer sends a request on it.
      server.keepAliveTimeout = 65_000;
    },
    close: () => pool.end(),
  };
}
