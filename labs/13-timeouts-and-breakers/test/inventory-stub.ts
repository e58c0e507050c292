/**
 * The inventory service, as the tests play it: a tiny HTTP server (listening where the service
 * reaches it, listenForService) that answers `GET /stock/:sku` with `{ sku, available }`, records
 * every call it gets, and can be made slow, failing, or made to fail a burst of first attempts all at
 * the same moment.
 */
import { createServer, type Server } from 'node:http';
import { FailTogether, listenForService } from '../../../harness/testing/index.js';

export interface Call {
  /** performance.now() when the request arrived. */
  at: number;
  sku: string;
  /** The caller's x-request-timeout-ms header (the budget it says it has left), if any. */
  timeoutHeader: number | undefined;
  /** performance.now() when the caller closed the connection before the answer, if it did. */
  abandonedAt?: number;
  status?: number;
}

type Mode = { kind: 'ok' } | { kind: 'slow'; ms: number } | { kind: 'error' };

export class InventoryStub {
  readonly calls: Call[] = [];
  private mode: Mode = { kind: 'ok' };
  /** The burst of first calls being held or failed (failTogether). */
  burst?: FailTogether;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<InventoryStub> {
    let stub!: InventoryStub;
    const server = createServer((req, res) => {
      const m = /^\/stock\/([^/?]+)/.exec(req.url ?? '');
      if (!m) {
        res.writeHead(404).end();
        return;
      }
      const sku = decodeURIComponent(m[1]!);
      const header = req.headers['x-request-timeout-ms'];
      const call: Call = { at: performance.now(), sku, timeoutHeader: typeof header === 'string' ? Number(header) : undefined };
      stub.calls.push(call);
      let answered = false;
      res.on('close', () => {
        if (!answered) call.abandonedAt = performance.now();
      });
      const answer = (status: number) => {
        if (res.destroyed || res.writableEnded) return;
        answered = true;
        call.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status === 200 ? { sku, available: 1000 } : { error: 'inventory is having a bad day' }));
      };
      // The first attempt of each checkout of a burst is held, then all fail at the same moment.
      if (stub.burst?.take(sku, () => answer(500))) return;
      const mode = stub.mode;
      if (mode.kind === 'error') answer(500);
      else if (mode.kind === 'slow') setTimeout(() => answer(200), mode.ms);
      else answer(200);
    });
    server.keepAliveTimeout = 30_000;
    stub = new InventoryStub(server, await listenForService(server));
    return stub;
  }

  /** Every call is answered 200 at once. */
  heal(): void {
    this.mode = { kind: 'ok' };
  }

  /** Every call is answered 200 after ms (unless the caller gives up first). */
  slow(ms: number): void {
    this.mode = { kind: 'slow', ms };
  }

  /** Every call is answered 500 at once. */
  fail(): void {
    this.mode = { kind: 'error' };
  }

  /**
   * The first call for each of `size` skus starting with prefix is held until all `size` have
   * arrived (or release() is called), and then all are answered 500 at the same moment; later calls
   * for them are answered as the mode says.
   */
  failTogether(prefix: string, size: number): FailTogether {
    this.burst = new FailTogether(size, (sku) => sku.startsWith(prefix));
    return this.burst;
  }

  for(sku: string): Call[] {
    return this.calls.filter((c) => c.sku === sku);
  }

  /** Calls that arrived after the moment `since` (performance.now()). */
  callsSince(since: number): Call[] {
    return this.calls.filter((c) => c.at >= since);
  }

  async close(): Promise<void> {
    this.burst?.release();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}
