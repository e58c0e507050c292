/**
 * Our subscriber, as the tests play it: a tiny HTTP server (listening where the service reaches it,
 * listenForService) that records every webhook the service sends it, checks each one's signature,
 * and answers 500 for a customer's first N deliveries, or for all of them, until healed.
 */
import { createServer, type Server } from 'node:http';
import { listenForService } from '../../../harness/testing/index.js';
import { hmacHex } from './provider.js';

export interface Attempt {
  /** performance.now() when the request arrived. */
  at: number;
  eventId: string;
  webhookId: string | undefined;
  customerId: string | undefined;
  /** Whether Webhook-Signature is the HMAC of `${Webhook-Timestamp}.${raw body}` with the subscriber's secret. */
  signatureValid: boolean;
  /** What the stub answered. */
  status: number;
}

export class SubscriberStub {
  readonly attempts: Attempt[] = [];
  private readonly failuresLeft = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(secret: string): Promise<SubscriberStub> {
    let stub!: SubscriberStub;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        const raw = Buffer.concat(chunks);
        let body: { id?: string; data?: { customerId?: string } } = {};
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          /* recorded with no event id */
        }
        const timestamp = req.headers['webhook-timestamp'];
        const signature = req.headers['webhook-signature'];
        const signatureValid =
          typeof timestamp === 'string' &&
          typeof signature === 'string' &&
          signature.split(/[\s,]+/).includes(`v1=${hmacHex(secret, timestamp, raw)}`);
        const customerId = body.data?.customerId;
        const left = customerId === undefined ? 0 : (stub.failuresLeft.get(customerId) ?? 0);
        const status = left > 0 ? 500 : 200;
        if (left > 0 && customerId !== undefined) stub.failuresLeft.set(customerId, left - 1);
        const webhookId = req.headers['webhook-id'];
        stub.attempts.push({
          at,
          eventId: String(body.id ?? ''),
          webhookId: typeof webhookId === 'string' ? webhookId : undefined,
          customerId,
          signatureValid,
          status,
        });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status === 200 ? { ok: true } : { error: 'subscriber temporarily down' }));
      });
    });
    stub = new SubscriberStub(server, await listenForService(server));
    return stub;
  }

  /** The next n deliveries for this customer get 500. */
  failFirst(customerId: string, n: number): void {
    this.failuresLeft.set(customerId, n);
  }

  /** Every delivery for this customer gets 500 until healed. */
  alwaysFail(customerId: string): void {
    this.failuresLeft.set(customerId, Number.POSITIVE_INFINITY);
  }

  heal(customerId: string): void {
    this.failuresLeft.delete(customerId);
  }

  for(customerId: string): Attempt[] {
    return this.attempts.filter((a) => a.customerId === customerId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}
