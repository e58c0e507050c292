import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { connect } from './db.js';
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
  // TODO: connectionLimit, reservedConnections, instances, acquireTimeoutMs and statementTimeoutMs are read
  // and then ignored: see db.ts.
  const settings = Settings.parse(config.settings ?? {});
  void settings;

  const app = express();

  app.get('/health', async (_req, res) => {
    const client = await connect(config.databaseUrl);
    await client.query('SELECT 1');
    await client.end();
    res.json({ ok: true });
  });

  app.get('/reports', async (_req, res) => {
    const client = await connect(config.databaseUrl);
    const reports = await listReports(client);
    await client.end();
    res.json({ reports });
  });

  app.get('/reports/:name', async (req, res) => {
    // TODO: when the report's query fails, this throws before client.end(): the session stays open.
    const client = await connect(config.databaseUrl);
    const report = await runReport(client, req.params.name);
    await client.end();
    if (!report) throw new HttpError(404, `no saved report named ${req.params.name}`);
    res.json(report);
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    // TODO: a database that is out of connections, unreachable or too slow is not a bug in the request.
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return {
    app,
    close: async () => {},
  };
}
