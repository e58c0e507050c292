/**
 * Our subscriber, as the tests play it: a tiny HTTP server (listening where the service reaches it,
 * listenForService) that records every webhook the service sends it, checks each one's signature,
 * and answers 500 for a customer's first N deliveries, or for all of them, until healed. It can
 * also hold a group of customers' first deliveries and fail them all at the same moment (a burst).
 */
import { createServer, type Server } from 'node:http';
import { FailTogether, listenForService } from '../../../harness/testing/index.js';
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
  /** The burst of first deliveries being held or failed (failTogether). */
  burst: FailTogether | undefined;

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
        const webhookId = req.headers['webhook-id'];
        const answer = (status: number) => {
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
        };
        // A first delivery of a burst: failed with the others, at the same moment.
        if (customerId !== undefined && stub.burst?.take(customerId, () => answer(500))) return;
        const left = customerId === undefined ? 0 : (stub.failuresLeft.get(customerId) ?? 0);
        const status = left > 0 ? 500 : 200;
        if (left > 0 && customerId !== undefined) stub.failuresLeft.set(customerId, left - 1);
        answer(status);
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

  /**
   * Holds the first delivery for each of these customers until all have arrived (or, with
   * releaseWhenAll false, until burst.release()), then answers them all 500 at the same moment.
   * Later deliveries for them are answered 200.
   */
  failTogether(customers: string[], { releaseWhenAll = true } = {}): FailTogether {
    const members = new Set(customers);
    this.burst = new FailTogether(releaseWhenAll ? members.size : Number.POSITIVE_INFINITY, (c) => members.has(c));
    return this.burst;
  }

  heal(customerId: string): void {
    this.failuresLeft.delete(customerId);
  }

  for(customerId: string): Attempt[] {
    return this.attempts.filter((a) => a.customerId === customerId);
  }

  async close(): Promise<void> {
    this.burst?.release();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}
