import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { createPool, isUnavailable, withClient } from './db.js';
import { HttpError } from './errors.js';
import { listReports, runReport } from './reports.js';

export interface Config {
  databaseUrl: string;
  settings?: Record<string, unknown>;
}

const Settings = z.object({
  /** Sessions the database lets this service open, all instances together (ALTER DATABASE … CONNECTION LIMIT). */
  connectionLimit: z.number().int().positive().default(20),
  /** Of those, how many stay free for people and tools: psql, migrations, monitoring. */
  reservedConnections: z.number().int().nonnegative().default(4),
  /** How many instances of this service run against the database. */
  instances: z.number().int().positive().default(2),
  /** How long a request may wait for a database connection before it is refused (503). */
  acquireTimeoutMs: z.number().int().positive().default(5_000),
  /** How long one query may run before Postgres cancels it. */
  statementTimeoutMs: z.number().int().positive().default(5_000),
});

export function createApp(config: Config) {
  const settings = Settings.parse(config.settings ?? {});
  const pool = createPool(config.databaseUrl, settings);

  const app = express();

  app.get('/health', async (_req, res) => {
    await pool.query('SELECT 1');
    res.json({ ok: true });
  });

  app.get('/reports', async (_req, res) => {
    res.json({ reports: await listReports(pool) });
  });

  app.get('/reports/:name', async (req, res) => {
    const report = await withClient(pool, (client) => runReport(client, req.params.name));
    if (!report) throw new HttpError(404, `no saved report named ${req.params.name}`);
    res.json(report);
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    if (isUnavailable(err)) {
      console.error('database unavailable', (err as Error).message);
      res.set('Retry-After', '1');
      return res.status(503).json({ error: `the database cannot take this request now: ${(err as Error).message}` });
    }
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return {
    app,
    close: () => pool.end(),
  };
}
