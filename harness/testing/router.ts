/**
 * A readiness-aware router: what a load balancer or a Kubernetes Service does in front of a lab's
 * instances, small enough to reason about. It listens on 127.0.0.1 and spreads requests round-robin
 * over the backends whose readiness probe (GET readinessPath) last answered 200. It probes every
 * backend every `probeEveryMs`; a backend that answers anything else, or nothing within
 * `probeTimeoutMs`, gets no new requests until it answers 200 again. It keeps its connections to
 * backends alive and reuses them, as real proxies do. It never retries: a request that a backend
 * drops is a 502 for the client, so the tests see every failure a deploy causes.
 *
 * Like an orchestrator, it learns that an instance is going away only from its readiness (and from
 * remove(), the endpoint being deleted), never from the signal the instance was sent.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from './http.js';
import { isLocalTarget } from './traffic.js';

export interface RouterOptions {
  /** The readiness path probed on every backend (default /ready). */
  readinessPath?: string;
  /** How often each backend is probed (default 100 ms). */
  probeEveryMs?: number;
  /** A probe unanswered for this long counts as failed (default 1000 ms). */
  probeTimeoutMs?: number;
  /**
   * Failed probes in a row before a ready backend is taken out (default 1). Kubernetes' default is 3;
   * 2 keeps one slow probe on a busy machine from emptying the router. One 200 puts it back.
   */
  failureThreshold?: number;
}

export interface Backend {
  url: string;
  /** Whether the last probe answered 200. */
  ready: boolean;
  /** Taken out by remove(): no requests, no probes. */
  removed: boolean;
  /** Requests sent to it, and of those, how many it dropped (no answer: a 502 for the client). */
  served: number;
  failed: number;
  /** Probes failed in a row, up to now. */
  probeFailures: number;
}

export interface Transition {
  url: string;
  ready: boolean;
  /** performance.now() of the probe that saw the change. */
  at: number;
  /** What the probe got: an HTTP status, or an error code. */
  saw: string;
}

export class Router {
  private readonly backends: Backend[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly probeAgent = new http.Agent({ keepAlive: false });
  private next = 0;
  private closed = false;
  /** Every readiness change the router saw, in order. */
  readonly transitions: Transition[] = [];
  readonly url: string;
  readonly http: HttpClient;

  private constructor(
    private readonly server: Server,
    private readonly opts: Required<RouterOptions>,
  ) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.http = new HttpClient(this.url);
  }

  static async open(opts: RouterOptions = {}): Promise<Router> {
    let router!: Router;
    const server = http.createServer((req, res) => router.route(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    router = new Router(server, { readinessPath: '/ready', probeEveryMs: 100, probeTimeoutMs: 1_000, failureThreshold: 1, ...opts });
    return router;
  }

  /** Starts probing a backend; it gets requests once its probe answers 200. */
  add(target: string | { url: string }): Backend {
    const url = typeof target === 'string' ? target : target.url;
    if (!isLocalTarget(url)) throw new Error(`the router forwards to this machine's instances only, not to ${url}`);
    if (this.backends.some((b) => b.url === url && !b.removed)) throw new Error(`${url} is already behind the router`);
    const b: Backend = { url, ready: false, removed: false, served: 0, failed: 0, probeFailures: 0 };
    this.backends.push(b);
    const probe = () => {
      if (b.removed || this.closed) return;
      void this.probe(b).finally(() => {
        if (!b.removed && !this.closed) this.timers.set(url, setTimeout(probe, this.opts.probeEveryMs));
      });
    };
    probe();
    return b;
  }

  /** Takes a backend out for good (the endpoint is deleted): no new requests, no probes. */
  remove(target: string | { url: string }): void {
    const url = typeof target === 'string' ? target : target.url;
    for (const b of this.backends) if (b.url === url) b.removed = true;
    clearTimeout(this.timers.get(url));
  }

  /** The backends, as the router sees them now. */
  list(): Backend[] {
    return this.backends.map((b) => ({ ...b }));
  }

  backend(target: string | { url: string }): Backend | undefined {
    const url = typeof target === 'string' ? target : target.url;
    const b = [...this.backends].reverse().find((x) => x.url === url);
    return b && { ...b };
  }

  /** Resolves true once the backend's probe has answered 200, false after timeoutMs. */
  async waitReady(target: string | { url: string }, timeoutMs = 10_000): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      if (this.backend(target)?.ready) return true;
      if (performance.now() > end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
    this.agent.destroy();
    this.probeAgent.destroy();
  }

  private async probe(b: Backend): Promise<void> {
    const u = new URL(this.opts.readinessPath, b.url);
    const saw = await new Promise<string>((resolve) => {
      const req = http.get(u, { agent: this.probeAgent, timeout: this.opts.probeTimeoutMs }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
        res.on('error', () => resolve('ERESPONSE'));
      });
      req.on('timeout', () => {
        req.destroy();
        resolve('no answer');
      });
      req.on('error', (e) => resolve((e as { code?: string }).code ?? e.message));
    });
    if (b.removed) return;
    b.probeFailures = saw === '200' ? 0 : b.probeFailures + 1;
    const ready = saw === '200' || (b.ready && b.probeFailures < this.opts.failureThreshold);
    if (ready !== b.ready) this.transitions.push({ url: b.url, ready, at: performance.now(), saw });
    b.ready = ready;
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const live = this.backends.filter((b) => b.ready && !b.removed);
    if (live.length === 0) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'the router has no ready instance' }));
      req.resume();
      return;
    }
    const b = live[this.next++ % live.length]!;
    b.served++;
    const target = new URL(b.url);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: this.agent },
      (r) => {
        res.writeHead(r.statusCode ?? 502, { ...r.headers, 'x-lab-backend': b.url });
        r.pipe(res);
        r.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (e) => {
      b.failed++;
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'application/json', 'x-lab-backend': b.url });
      res.end(JSON.stringify({ error: `instance ${b.url} dropped the request: ${(e as { code?: string }).code ?? e.message}` }));
    });
    req.pipe(upstream);
  }
}
