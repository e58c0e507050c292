import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import { z } from 'zod';
import type { PaymentEvent } from './credits.js';
import { HttpError } from './errors.js';
import { Inbox } from './inbox.js';
import { Deliveries } from './notify.js';
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
  const deliveries = settings.subscriberUrl
    ? new Deliveries(
        pool,
        { url: settings.subscriberUrl, secret: settings.subscriberSecret },
        { attempts: settings.deliveryAttempts, retryBaseMs: settings.retryBaseMs, timeoutMs: settings.deliveryTimeoutMs },
      )
    : undefined;
  const inbox = new Inbox(pool, settings.processingMs, deliveries !== undefined, () => deliveries?.kick());
  const retiredAt = settings.previousProviderSecretExpiresAt ? Date.parse(settings.previousProviderSecretExpiresAt) : 0;
  /** The provider's secrets valid now: the current one, and during a rotation the one being retired. */
  const providerSecrets = () =>
    settings.previousProviderSecret && Date.now() < retiredAt
      ? [settings.providerSecret, settings.previousProviderSecret]
      : [settings.providerSecret];

  const app = express();

  app.get('/health', async (_req, res) => {
    await pool.query('SELECT 1');
    res.json({ ok: true });
  });

  // The raw bytes, exactly as signed: never a parsed and re-serialised body.
  app.post('/webhooks/provider', express.raw({ type: () => true, limit: '256kb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = verifySignature(
      providerSecrets(),
      req.get('webhook-timestamp'),
      raw,
      req.get('webhook-signature'),
      settings.toleranceSeconds,
    );
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'body is not valid JSON');
    }
    const parsed = PaymentEventBody.safeParse(body);
    if (!parsed.success) throw new HttpError(400, `invalid event: ${parsed.error.issues[0]?.message}`);
    if (parsed.data.type !== 'payment.succeeded') return res.json({ received: true, ignored: parsed.data.type });
    // Recorded, then acknowledged: the work happens after the answer, once per event id.
    const fresh = await inbox.receive(parsed.data as PaymentEvent);
    res.json({ received: true, duplicate: !fresh });
  });

  app.get('/deliveries', async (req, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : undefined;
    res.json({ deliveries: deliveries ? await deliveries.list(status) : [] });
  });

  app.post('/deliveries/:id/replay', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || !deliveries || !(await deliveries.replay(id)))
      throw new HttpError(404, 'no failed delivery with that id');
    res.status(202).json({ replaying: id });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return {
    app,
    close: async () => {
      inbox.close();
      deliveries?.close();
      await pool.end();
    },
  };
}
