/**
 * v1 of the users API, as it runs in production today: the version the rollout replaces. The tests
 * run it beside your v2 (lab.json "trees"), against the same database; you do not change it.
 *
 * It knows one name column, `users.name`, and reads and writes it in every request. It names its
 * database sessions `users-api/v1` (application_name) and keeps them open while it runs, so
 * pg_stat_activity shows which versions are connected.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { z } from 'zod';

export interface Config {
  databaseUrl: string;
  settings?: Record<string, unknown>;
}

const NewUser = z.object({ name: z.string().min(1).max(200), email: z.string().email().max(200) });
const Rename = z.object({ name: z.string().min(1).max(200) });

export function createApp(config: Config) {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    application_name: 'users-api/v1',
    max: 8,
    // Its sessions stay open while it runs, idle or not: pg_stat_activity shows it for as long as it lives.
    idleTimeoutMillis: 0,
    connectionTimeoutMillis: 5_000,
  });
  pool.on('error', (err) => console.error('idle pg client error', err.message));
  const app = express();
  app.use(express.json());

  app.get('/ready', async (_req, res) => {
    try {
      await pool.query('SELECT 1');
      res.json({ ready: true, version: 'v1' });
    } catch {
      res.status(503).json({ ready: false });
    }
  });

  app.get('/users/:id', async (req, res) => {
    const { rows } = await pool.query('SELECT id, name, email FROM users WHERE id = $1', [req.params.id]);
    if (!rows[0]) return void res.status(404).json({ error: 'no such user' });
    res.json({ version: 'v1', id: Number(rows[0].id), name: rows[0].name, email: rows[0].email });
  });

  app.post('/users', async (req, res) => {
    const body = NewUser.parse(req.body);
    const { rows } = await pool.query('INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email', [body.name, body.email]);
    res.status(201).json({ version: 'v1', id: Number(rows[0].id), name: rows[0].name, email: rows[0].email });
  });

  app.put('/users/:id', async (req, res) => {
    const body = Rename.parse(req.body);
    const { rows } = await pool.query('UPDATE users SET name = $2 WHERE id = $1 RETURNING id, name, email', [req.params.id, body.name]);
    if (!rows[0]) return void res.status(404).json({ error: 'no such user' });
    res.json({ version: 'v1', id: Number(rows[0].id), name: rows[0].name, email: rows[0].email });
  });

  app.use((err: Error & { code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof z.ZodError) return void res.status(400).json({ error: err.issues[0]?.message });
    console.error(`v1 request failed: ${err.code ?? ''} ${err.message}`);
    res.status(500).json({ error: err.message, code: err.code });
  });

  return { app, close: () => pool.end() };
}
