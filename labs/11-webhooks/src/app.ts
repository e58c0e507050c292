import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { z } from 'zod';
import { credit, creditedEvent, fulfil, type PaymentEvent } from './credits.js';
import { HttpError } from './errors.js';
import { notify } from './notify.js';
import { verifySignature } from './signature.js';

export interface Config {
  databaseUrl: string;
  settings?: Record<string, unknown>;
}

const Settings = z.object({
  /** The secret the payment provider signs its webhooks with. */
  providerSecret: z.string().min(8),
  /** During a rotation: the secret being retired, accepted until previousProviderSecretExpiresAt. */
  previousProviderSecret: z.string().min(8).optional(),
  /** When the retired secret stops being accepted (an ISO 8601 timestamp). */
  previousProviderSecretExpiresAt: z.iso.datetime({ offset: true }).optional(),
  /** How old a delivery's Webhook-Timestamp may be, in seconds. */
  toleranceSeconds: z.number().int().positive().default(300),
  /** How long fulfilment of one payment takes (receipt, risk engine). */
  processingMs: z.number().int().nonnegative().default(500),
  /** Where we send our own webhooks, and the secret we sign them with. No URL: we send none. */
  subscriberUrl: z.url().optional(),
  subscriberSecret: z.string().min(8).default('whsec_subscriber_default'),
  /** Attempts per webhook we send, the first included. */
  deliveryAttempts: z.number().int().positive().default(5),
  /** The wait before the first retry; each retry waits twice as long as the one before. */
  retryBaseMs: z.number().int().positive().default(1_000),
  /** How long one attempt may take before it counts as failed. */
  deliveryTimeoutMs: z.number().int().positive().default(5_000),
});

const PaymentEventBody = z.object({
  id: z.string().min(1).max(200),
  type: z.string(),
  created: z.number(),
  data: z.object({ customerId: z.string().min(1), amountCents: z.number().int().positive() }),
});

export function createApp(config: Config) {
  const settings = Settings.parse(config.settings ?? {});
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err.message));
  const subscriber = settings.subscriberUrl ? { url: settings.subscriberUrl, secret: settings.subscriberSecret } : undefined;

  const app = express();
  app.use(express.json());

  app.get('/health', async (_req, res) => {
    await pool.query('SELECT 1');
    res.json({ ok: true });
  });

  // TODO: previousProviderSecret is never consulted: rotating the provider's secret breaks every delivery.
  app.post('/webhooks/provider', async (req, res) => {
    if (!verifySignature(settings.providerSecret, req.get('webhook-timestamp'), req.body, req.get('webhook-signature')))
      throw new HttpError(401, 'invalid signature');
    const parsed = PaymentEventBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, `invalid event: ${parsed.error.issues[0]?.message}`);
    if (parsed.data.type !== 'payment.succeeded') return res.json({ received: true, ignored: parsed.data.type });
    const event = parsed.data as PaymentEvent;

    // TODO: the provider waits for this answer for 200 ms; fulfilment takes seconds. And the
    // provider redelivers what it did not see acknowledged, to whichever instance.
    await fulfil(event, settings.processingMs);
    await credit(pool, event);
    if (subscriber) notify(subscriber, creditedEvent(event));
    res.json({ received: true });
  });

  // TODO: webhooks that could not be delivered are not kept, so there is nothing to list or replay.
  app.get('/deliveries', (_req, res) => {
    res.json({ deliveries: [] });
  });
  app.post('/deliveries/:id/replay', (_req, _res) => {
    throw new HttpError(404, 'no such delivery');
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    if ((err as { type?: string }).type === 'entity.parse.failed') return res.status(400).json({ error: 'body is not valid JSON' });
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return {
    app,
    close: async () => {
      await pool.end();
    },
  };
}
