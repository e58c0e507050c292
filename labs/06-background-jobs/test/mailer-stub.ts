/**
 * A stand-in for the mail provider, run by the tests (not by the service): a tiny HTTP server,
 * listening where the service reaches it (listenForService), that takes POST /messages and records
 * every call, per order (the `reference` the service sends). Like a real provider it honours `Idempotency-Key`: a call whose key it has seen
 * before sends nothing and answers what the first one did. The tests can make it slow, hold a call
 * without ever answering (so a worker can be killed mid-job), or fail for an order.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenForService } from '../../../harness/testing/index.js';

export interface MailCall {
  reference: string;
  key?: string;
  /** performance.now() in the test process when the call arrived. */
  at: number;
  /** True when this call sent an email (a new key, or no key at all). */
  sent: boolean;
  status: number;
}

interface Rule {
  /** Answer this status with this text to every call. */
  fail?: { status: number; text: string };
  /** Send the email, then never answer the first call. */
  holdFirst?: boolean;
}

export class MailerStub {
  readonly calls: MailCall[] = [];
  /** Every order the provider has been called for at least once. */
  private readonly called = new Set<string>();
  private readonly rules = new Map<string, Rule>();
  private readonly keys = new Map<string, string>();
  private readonly held = new Set<ServerResponse>();
  private latencyMs = 0;
  private seq = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<MailerStub> {
    let stub!: MailerStub;
    const server = createServer((req, res) => void stub.handle(req, res));
    server.keepAliveTimeout = 60_000;
    stub = new MailerStub(server, await listenForService(server));
    return stub;
  }

  /** Every call takes `ms` before it is answered (the email is sent on arrival). */
  slow(ms: number): this {
    this.latencyMs = ms;
    return this;
  }

  /** Every call for this order is refused with `status` and `text`; nothing is sent. */
  failAlways(reference: string, status: number, text: string): this {
    this.rule(reference).fail = { status, text };
    return this;
  }

  /** The first call for this order sends the email and then never answers. */
  holdFirst(reference: string): this {
    this.rule(reference).holdFirst = true;
    return this;
  }

  callsFor(reference: string): MailCall[] {
    return this.calls.filter((c) => c.reference === reference);
  }

  /** How many of these orders the provider has been called for (at least once each). */
  reachedFor(references: string[]): number {
    return references.filter((r) => this.called.has(r)).length;
  }

  /** Emails actually sent for this order. */
  sentFor(reference: string): number {
    return this.callsFor(reference).filter((c) => c.sent).length;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }

  private rule(reference: string): Rule {
    let r = this.rules.get(reference);
    if (!r) this.rules.set(reference, (r = {}));
    return r;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (req.method !== 'POST' || req.url !== '/messages') return answer(404, { error: 'the provider only knows POST /messages' });
    let body: { reference?: unknown; to?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      return answer(400, { error: 'body is not JSON' });
    }
    if (typeof body.reference !== 'string' || typeof body.to !== 'string') return answer(400, { error: 'to and reference are required' });
    const reference = body.reference;
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    const call: MailCall = { reference, key, at: performance.now(), sent: false, status: 0 };
    this.calls.push(call);
    this.called.add(reference);
    const rule = this.rule(reference);
    if (rule.fail) {
      call.status = rule.fail.status;
      return answer(rule.fail.status, { error: rule.fail.text });
    }
    const seen = key === undefined ? undefined : this.keys.get(key);
    const id = seen ?? `msg_${++this.seq}`;
    if (!seen) {
      call.sent = true;
      if (key !== undefined) this.keys.set(key, id);
    }
    call.status = 202;
    if (rule.holdFirst && this.callsFor(reference).length === 1) {
      this.held.add(res);
      return;
    }
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    answer(202, { id });
  }
}
