import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { HttpError } from './errors.js';
import { getAccount, transfer } from './ledger.js';

export interface Config {
  databaseUrl: string;
  settings?: Record<string, unknown>;
}

export function createApp(config: Config) {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err));

  const app = express();
  app.use(express.json());

  app.get('/accounts/:id', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id)) throw new HttpError(400, 'account id must be an integer');
    const account = await getAccount(pool, id);
    if (!account) throw new HttpError(404, 'account not found');
    res.json(account);
  });

  app.post('/transfers', async (req, res) => {
    const { from, to, amountCents } = req.body ?? {};
    if (![from, to, amountCents].every(Number.isSafeInteger) || amountCents <= 0)
      throw new HttpError(400, 'from, to and a positive integer amountCents are required');
    // TODO: what should a transfer from an account to itself do?
    const t = await transfer(pool, from, to, amountCents);
    res.status(201).json(t);
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return { app, close: () => pool.end() };
}
