import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { z } from 'zod';
import { HttpError } from './errors.js';
import { enqueue } from './queue.js';

/** The worker's entry point, run as processes of its own: see worker.ts. */
export { createWorker } from './worker.js';

export interface Config {
  databaseUrl: string;
  settings?: Record<string, unknown>;
}

const ReceiptBody = z.object({
  orderId: z.string().min(1).max(64),
  email: z.email(),
  amountCents: z.number().int().positive(),
});

/** The API: takes receipt requests and queues them; workers send them. */
export function createApp(config: Config) {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err));

  const app = express();
  app.use(express.json());

  app.get('/health', async (_req, res) => {
    await pool.query('SELECT 1');
    res.json({ ok: true });
  });

  app.post('/receipts', async (req, res) => {
    const parsed = ReceiptBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, `invalid receipt: ${parsed.error.issues[0]?.message}`);
    const jobId = await enqueue(pool, 'send-receipt', parsed.data);
    res.status(202).json({ jobId });
  });

  app.get('/jobs/:id', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id)) throw new HttpError(400, 'job id must be an integer');
    const { rows } = await pool.query('SELECT id, kind, status, attempts, last_error, run_at FROM jobs WHERE id = $1', [id]);
    const r = rows[0];
    if (!r) throw new HttpError(404, 'job not found');
    res.json({ id: Number(r.id), kind: r.kind, status: r.status, attempts: r.attempts, lastError: r.last_error, runAt: r.run_at });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return { app, close: () => pool.end() };
}
