/**
 * A stand-in for the card acquirer, run by the tests (not by the service): a tiny HTTP server,
 * listening where the service reaches it (listenForService), that takes POST /charges, counts every charge per customer, and can be told to be slow
 * or to fail for a given customer. Like the real acquirer, it has no idempotency of its own: every
 * request it accepts is a new charge.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { listenForService } from '../../../harness/testing/index.js';

export interface RecordedCharge {
  id: string;
  customerId: string;
  amountCents: number;
  currency: string;
  reference?: string;
  at: number;
}

interface Behaviour {
  delayMs: number;
  failuresLeft: number;
}

export class ProviderStub {
  private readonly charged: RecordedCharge[] = [];
  private readonly refused = new Map<string, number>();
  private readonly behaviour = new Map<string, Behaviour>();
  private seq = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ProviderStub> {
    let stub!: ProviderStub;
    const server = createServer((req, res) => {
      stub.handle(req).then(
        ({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: err.message }));
        },
      );
    });
    stub = new ProviderStub(server, await listenForService(server));
    return stub;
  }

  /** Every charge for this customer takes `ms` before the acquirer answers (the money is taken on arrival). */
  slow(customerId: string, ms: number): this {
    this.rule(customerId).delayMs = ms;
    return this;
  }

  /** The next `n` charges for this customer are refused with 503; no money is taken. */
  failNext(customerId: string, n = 1): this {
    this.rule(customerId).failuresLeft = n;
    return this;
  }

  /** Charges that took money from this customer's card. */
  charges(customerId: string): RecordedCharge[] {
    return this.charged.filter((c) => c.customerId === customerId);
  }

  /** Charge requests for this customer that were refused (503). */
  refusals(customerId: string): number {
    return this.refused.get(customerId) ?? 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }

  private rule(customerId: string): Behaviour {
    let b = this.behaviour.get(customerId);
    if (!b) this.behaviour.set(customerId, (b = { delayMs: 0, failuresLeft: 0 }));
    return b;
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    if (req.method !== 'POST' || req.url !== '/charges') return { status: 404, body: { error: 'the acquirer only knows POST /charges' } };
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body: Partial<RecordedCharge>;
    try {
      body = JSON.parse(raw);
    } catch {
      return { status: 400, body: { error: 'body is not JSON' } };
    }
    const { customerId, amountCents, currency, reference } = body;
    if (typeof customerId !== 'string' || typeof amountCents !== 'number' || typeof currency !== 'string')
      return { status: 400, body: { error: 'customerId, amountCents and currency are required' } };
    const rule = this.rule(customerId);
    if (rule.failuresLeft > 0) {
      rule.failuresLeft--;
      this.refused.set(customerId, this.refusals(customerId) + 1);
      return { status: 503, body: { error: 'acquirer temporarily unavailable' } };
    }
    const charge: RecordedCharge = { id: `ch_${++this.seq}`, customerId, amountCents, currency, reference, at: Date.now() };
    this.charged.push(charge);
    if (rule.delayMs > 0) await new Promise((r) => setTimeout(r, rule.delayMs));
    return { status: 201, body: { id: charge.id, status: 'succeeded' } };
  }
}
