/**
 * The quotes API. `GET /quote` is fast (one query); `GET /report` builds a report for
 * `settings.slowMs` (1.5 s) and then reads the database. The platform runs two instances behind a
 * load balancer that sends traffic only to instances whose `GET /ready` answers 200, and deploys
 * by replacing them one at a time: it starts the new one, waits until it is ready, then sends the
 * old one SIGTERM and, `terminationGracePeriod` later, SIGKILL.
 *
 * Ops note (INC-3240): every deploy costs a burst of 502s at the load balancer, long reports die
 * half-way, and Postgres logs "unexpected EOF on client connection" for each old instance.
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

  const app = express();

  app.get('/live', (_req, res) => {
    res.json({ live: true });
  });

  // TODO: the load balancer sends traffic here as long as this says 200. Does this instance really
  // serve requests? And once it has been told to stop?
  app.get('/ready', (_req, res) => {
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

  // TODO: the platform sends SIGTERM and waits terminationGracePeriod before it kills. Exiting at
  // once drops every request in flight, resets every kept-alive connection the load balancer holds,
  // and leaves Postgres sessions behind.
  process.on('SIGTERM', () => {
    console.log(`${settings.version}: SIGTERM, exiting`);
    process.exit(0);
  });

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
