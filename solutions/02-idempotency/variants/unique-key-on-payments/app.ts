import { createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { z } from 'zod';
import { HttpError } from './errors.js';
import { createPayment, getPayment } from './payments.js';
import { createProvider, ProviderError } from './provider.js';

export interface Config {
  databaseUrl: string;
  redisUrl?: string;
  settings?: Record<string, unknown>;
}

const Settings = z.object({
  /** Base URL of the card acquirer's API. */
  providerUrl: z.url(),
  /** How long one charge may take before we give up on the acquirer. */
  providerTimeoutMs: z.number().int().positive().default(10_000),
  /** How long a finished key replays its response (the retry window promised to clients); past it the key is new. */
  idempotencyRetentionSeconds: z.number().positive().default(86_400),
});

const PaymentBody = z.object({
  customerId: z.string().min(1).max(64),
  amountCents: z.number().int().positive().max(100_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as USD'),
});

export function createApp(config: Config) {
  const settings = Settings.parse(config.settings ?? {});
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err));
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', (err) => console.error('redis error', err.message));
  const provider = createProvider(settings.providerUrl, settings.providerTimeoutMs);

  const app = express();
  app.use(express.json());

  app.get('/health', async (_req, res) => {
    await pool.query('SELECT 1');
    if (redis) await redis.ping();
    res.json({ ok: true });
  });

  app.get('/payments/:id', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id)) throw new HttpError(400, 'payment id must be an integer');
    const payment = await getPayment(pool, id);
    if (!payment) throw new HttpError(404, 'payment not found');
    res.json(payment);
  });

  app.post('/payments', async (req, res) => {
    const parsed = PaymentBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, `invalid payment: ${parsed.error.issues[0]?.message}`);
    const key = req.get('Idempotency-Key')?.trim();
    if (!key) throw new HttpError(400, 'the Idempotency-Key header is required');
    const input = parsed.data;
    const hash = createHash('sha256')
      .update(JSON.stringify([input.customerId, input.amountCents, input.currency]))
      .digest('hex');
    const result = await createPayment(pool, provider, input, key, hash, settings.idempotencyRetentionSeconds);
    switch (result.kind) {
      case 'mismatch':
        throw new HttpError(422, 'this Idempotency-Key was already used for a different payment');
      case 'in-flight':
        throw new HttpError(409, 'a payment with this Idempotency-Key is still in progress');
      case 'replay':
        res.set('Idempotent-Replayed', 'true').status(201).json(result.payment);
        return;
      case 'created':
        res.status(201).json(result.payment);
    }
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    if (err instanceof ProviderError) {
      console.error('charge failed', err.message);
      return res.status(502).json({ error: 'the payment provider is unavailable; nothing was charged, try again' });
    }
    if ((err as { type?: string }).type === 'entity.parse.failed') return res.status(400).json({ error: 'body is not valid JSON' });
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return {
    app,
    close: async () => {
      await pool.end();
      redis?.disconnect();
    },
  };
}
