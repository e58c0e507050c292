/**
 * Fault points: a TCP proxy the harness owns, one per test, between the service and a server.
 * The service is handed the fault point's URL instead of the server's; the test then degrades the
 * link. Vocabulary follows Toxiproxy (which is not available here):
 *
 *   latency(ms)  every chunk, in both directions, is delayed by ms        (toxic "latency")
 *   timeout()    accept and keep connections, but never deliver a byte    (toxic "timeout", 0)
 *   resetPeer()  reset every open connection now                          (toxic "reset_peer")
 *   refuse()     stop listening: new connections are refused              (proxy "enabled": false, new side)
 *   down()       refuse() + resetPeer(): the server is gone                (proxy "enabled": false)
 *   heal()       remove every fault and listen again
 *
 * A fault point touches nothing but its own sockets, so other tests and their containers never
 * notice.
 */
import net from 'node:net';

/**
 * Where a service reaches what the harness listens on for it (fault points, a lab's stubs): the
 * loopback interface, or in a grading sandbox the host's address on the sandbox's network, taking
 * connections from the sandbox container only (another submission's sandbox, on a network of its
 * own, can route to that address too).
 */
export interface ServiceSide {
  host: string;
  /** Remote addresses allowed to connect; undefined: anyone who can reach `host`. */
  allow?: readonly string[];
}

export const LOOPBACK_SIDE: ServiceSide = { host: '127.0.0.1' };

/** Resets connections to `server` from addresses `side` does not allow, before a byte is read. */
export function guardConnections(server: net.Server, side: ServiceSide): void {
  if (!side.allow) return;
  const allowed = new Set(side.allow.flatMap((a) => [a, `::ffff:${a}`]));
  server.prependListener('connection', (socket: net.Socket) => {
    if (!allowed.has(socket.remoteAddress ?? '')) socket.resetAndDestroy();
  });
}

export interface FaultState {
  latencyMs: number;
  blackhole: boolean;
  listening: boolean;
}

export class FaultPoint {
  private server!: net.Server;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private state: FaultState = { latencyMs: 0, blackhole: false, listening: false };
  port = 0;

  private constructor(
    readonly targetHost: string,
    readonly targetPort: number,
    private readonly side: ServiceSide,
  ) {}

  /** Opens a fault point on a free port where the service reaches it (default 127.0.0.1) that forwards to host:port. */
  static async open(targetHost: string, targetPort: number, side: ServiceSide = LOOPBACK_SIDE): Promise<FaultPoint> {
    const fp = new FaultPoint(targetHost, targetPort, side);
    await fp.listen(0);
    return fp;
  }

  get host(): string {
    return this.side.host;
  }

  /** Rewrites a server URL (postgres://…, redis://…) to go through this fault point. */
  urlFor(serverUrl: string): string {
    const u = new URL(serverUrl);
    u.hostname = this.host;
    u.port = String(this.port);
    return u.toString();
  }

  get faults(): Readonly<FaultState> {
    return { ...this.state };
  }

  /** Connections currently open through the fault point. */
  get connections(): number {
    return this.pairs.size;
  }

  private listen(port: number): Promise<void> {
    this.server = net.createServer((client) => !client.destroyed && this.accept(client));
    guardConnections(this.server, this.side);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as net.AddressInfo).port;
        this.state.listening = true;
        resolve();
      });
    });
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    const pair = { client, upstream };
    this.pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pipe = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk) => {
        if (this.state.blackhole) return;
        const ms = this.state.latencyMs;
        // Each chunk is delayed on its own (timers with one delay fire in order), so latency adds
        // to every chunk without throttling the stream, as Toxiproxy's latency toxic does.
        if (ms > 0) setTimeout(() => to.destroyed || to.write(chunk), ms);
        else if (!to.destroyed) to.write(chunk);
      });
    };
    pipe(client, upstream);
    pipe(upstream, client);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  /** Delays every chunk, both ways, by ms (Toxiproxy: latency toxic). */
  async latency(ms: number): Promise<void> {
    this.state.latencyMs = ms;
  }

  /** Accepts connections and keeps them open, but delivers nothing (Toxiproxy: timeout toxic, timeout 0). */
  async timeout(): Promise<void> {
    this.state.blackhole = true;
  }

  /** Resets (TCP RST) every open connection now (Toxiproxy: reset_peer toxic). */
  async resetPeer(): Promise<void> {
    for (const { client, upstream } of [...this.pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Stops listening: new connections are refused; open ones live on. */
  async refuse(): Promise<void> {
    if (!this.state.listening) return;
    this.state.listening = false;
    // close() stops accepting at once; its callback would wait for the open connections.
    this.server.close();
  }

  /** The server is gone: new connections refused and open ones reset (Toxiproxy: enabled=false). */
  async down(): Promise<void> {
    await this.refuse();
    await this.resetPeer();
  }

  /** Removes every fault; listens again on the same port. */
  async heal(): Promise<void> {
    this.state.latencyMs = 0;
    this.state.blackhole = false;
    if (!this.state.listening) {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.listen(this.port);
          break;
        } catch (e) {
          if (attempt >= 20) throw new Error(`fault point could not listen on port ${this.port} again: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  }

  async close(): Promise<void> {
    await this.down();
  }
}
