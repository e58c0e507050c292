/**
 * Host processes: every instance of a lab's service runs in a process of its own (service-host.ts),
 * so that state a fix keeps in memory is really per instance.
 *
 * A host is plain `node` running the compiled service-host script (no tsx). It is forked first and
 * announces { type: 'idle' } once Node and the common libraries are loaded; it is then told
 * { type: 'start', src, build, config, appName } and answers { type: 'ready', port } or
 * { type: 'error' }. That split lets a HostPool fork hosts ahead of time: every run (`lab test`,
 * `verify`, `grade`, `watch`) keeps one in the CLI process, and test workers take warm hosts from
 * it over a Unix socket (LAB_HOST_POOL), so no test waits for a process to boot. Each host serves
 * exactly one instance and then exits: no state carries from one instance to the next. Without a
 * pool, a worker forks its own hosts. Either way the same Host class starts and stops them, with
 * the same time-outs and messages.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildScript, vendorBundle } from '../build.js';
import { ServiceStartError } from '../errors.js';
import { pidAlive } from '../pids.js';
import { ROOT } from '../paths.js';

const HOST_SOURCE = resolve(ROOT, 'harness', 'testing', 'service-host.ts');
let hostScript: string | undefined;
const LOG_LIMIT = 256 * 1024;
/** How long a host may take to boot (Node and the preloaded libraries) before it counts as stuck. */
const HOST_BOOT_TIMEOUT_MS = 60_000;
/** What a host loads while idle when nobody says otherwise: every library the labs' services use. */
const DEFAULT_PRELOAD = ['express', 'pg', 'ioredis', 'zod'];
const SOCKET_PREFIX = 'backend-labs-hosts-';

export { ServiceStartError };

export interface StartRequest {
  /** 0-based instance number, for messages. */
  index: number;
  /** The tree whose app.ts exports createApp(config), as the learner knows it (for messages). */
  src: string;
  /** The same tree compiled (build.ts): the folder holding app.js. */
  build: string;
  config: unknown;
  /** The application_name its Postgres sessions carry (PGAPPNAME). */
  appName: string;
  /** How long createApp + listen may take before the start counts as hung. */
  timeoutMs: number;
  /**
   * The host pool to take a host from (a Unix socket path): a grading sandbox's (servers/sandbox.ts),
   * else LAB_HOST_POOL's, else a host is forked here.
   */
  pool?: string;
  /**
   * What to run: 'app' (default) calls createApp(config) and listens; 'worker' calls the tree's
   * createWorker(config), exported from app.ts beside createApp, which listens on nothing.
   */
  entry?: 'app' | 'worker';
}

/** How a host process ended, and (after kill()) how long it took to end once signalled. */
export interface ExitStatus {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null when it exited by itself. */
  signal: NodeJS.Signals | null;
  /** kill(): milliseconds from sending the signal to the process's exit. */
  ms?: number;
  /** kill(): the process outlived `waitMs` and the harness SIGKILLed it (code and signal are then that kill's). */
  forced?: boolean;
}

/** The signals a test may send an instance. */
export type KillSignal = 'SIGTERM' | 'SIGKILL' | 'SIGINT';

export interface KillOptions {
  /** How long to wait for the process to exit before SIGKILLing it (default 30 s). */
  waitMs?: number;
}

/** A started instance's process, wherever it was forked. */
export interface HostHandle {
  pid: number;
  /** Where the instance listens: 127.0.0.1, or a sandbox container's own address. */
  host: string;
  port: number;
  /** What the process printed (stdout and stderr), most recent last. */
  logs(): string;
  exited(): boolean;
  /** How it ended, once it has. */
  exitStatus(): ExitStatus | undefined;
  /** Sends the signal, waits for the process to exit (SIGKILL after opts.waitMs), and says how and when it ended. */
  kill(signal: KillSignal, opts?: KillOptions): Promise<ExitStatus>;
  close(): Promise<void>;
}

type HostMessage =
  { type: 'idle' } | { type: 'ready'; port: number; host?: string } | { type: 'error'; message?: string; stack?: string; phase?: string };

/**
 * How hosts are made, when not as in the kit's own tree: the grading sandbox's agent runs inside a
 * container that holds neither the harness's sources nor esbuild, and hands over what it was given.
 */
export interface HostRuntime {
  /** The compiled service-host script (build.ts buildScript). */
  script?: string;
  /** The vendor bundle to load while idle (build.ts vendorBundle), or null for none. */
  vendor?: string | null;
  /** The address services listen on (default 127.0.0.1). */
  listen?: string;
  /** Environment of the host process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Working folder of the host process (default: the kit's root). */
  cwd?: string;
  /** The user and group the host process runs as (default: this process's). */
  uid?: number;
  gid?: number;
}

/** The compiled service-host script every host runs (built once per process). */
export function hostScriptPath(): string {
  return (hostScript ??= buildScript(HOST_SOURCE));
}

/** One forked host process, idle until start() is called once. */
export class Host {
  readonly child: ChildProcess;
  private log = '';
  private exitedFlag = false;
  private status?: ExitStatus;
  private readonly listeners = new Set<(chunk: string) => void>();
  /** Resolves once the host has loaded and waits for its start message. */
  readonly idle: Promise<void>;

  /** `preload`: the libraries to load while idle (those the lab's trees import). */
  constructor(preload: readonly string[] = DEFAULT_PRELOAD, runtime: HostRuntime = {}) {
    // Plain node on a compiled script: no tsx in a service process (see build.ts).
    const script = runtime.script ?? hostScriptPath();
    const vendor = runtime.vendor !== undefined ? (runtime.vendor ?? undefined) : vendorBundle(preload)?.bundle;
    this.child = fork(script, [], {
      cwd: runtime.cwd ?? ROOT,
      uid: runtime.uid,
      gid: runtime.gid,
      execArgv: ['--enable-source-maps'],
      env: {
        ...(runtime.env ?? process.env),
        NODE_ENV: 'test',
        LAB_SERVICES: undefined,
        LAB_HOST_POOL: undefined,
        LAB_HOST_PRELOAD: preload.join(','),
        LAB_HOST_VENDOR: vendor,
        LAB_HOST_LISTEN: runtime.listen,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const append = (chunk: Buffer) => {
      const text = chunk.toString();
      this.log += text;
      if (this.log.length > LOG_LIMIT) this.log = this.log.slice(-LOG_LIMIT);
      for (const l of this.listeners) l(text);
    };
    this.child.stdout!.on('data', append);
    this.child.stderr!.on('data', append);
    this.child.on('exit', (code, signal) => {
      this.exitedFlag = true;
      this.status = { code, signal };
    });
    // A send to a host that has just gone away must never crash the run that owns it.
    this.child.on('error', () => undefined);
    this.idle = new Promise((resolveIdle, reject) => {
      const onMessage = (m: HostMessage) => {
        if (m?.type !== 'idle') return;
        this.child.off('message', onMessage);
        resolveIdle();
      };
      this.child.on('message', onMessage);
      this.child.once('exit', (code, signal) => reject(new Error(`the host process exited (${signal ?? `code ${code}`}) while loading`)));
    });
    this.idle.catch(() => undefined);
  }

  logs(): string {
    return this.log;
  }
  exited(): boolean {
    return this.exitedFlag;
  }
  exitStatus(): ExitStatus | undefined {
    return this.status && { ...this.status };
  }

  /**
   * Sends `signal` and resolves once the process has exited, with its exit code or signal and the
   * time it took. A process still running after `waitMs` is SIGKILLed (`forced`).
   */
  async kill(signal: KillSignal, { waitMs = 30_000 }: KillOptions = {}): Promise<ExitStatus> {
    const child = this.child;
    if (this.status) return { ...this.status, ms: 0 };
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    const t0 = performance.now();
    let forced = false;
    child.kill(signal);
    const timer = setTimeout(() => {
      forced = true;
      child.kill('SIGKILL');
    }, waitMs);
    await done;
    clearTimeout(timer);
    return { ...this.status!, ms: Math.round(performance.now() - t0), ...(forced ? { forced } : {}) };
  }

  onOutput(listener: (chunk: string) => void): void {
    this.listeners.add(listener);
  }

  /** Starts the service in this host; resolves with the port it listens on. */
  start(req: StartRequest): Promise<number> {
    return new Promise((resolvePort, reject) => {
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.child.kill('SIGKILL');
        const tail = this.log.trim().split('\n').slice(-15).join('\n');
        reject(
          new ServiceStartError(`service instance ${req.index + 1} did not start: ${why}${tail ? `\n--- its output ---\n${tail}` : ''}`),
        );
      };
      // The learner's code gets its time from the moment the host has booted: on a busy machine
      // (many runs at once) booting is the harness's cost, bounded on its own.
      let timer = setTimeout(
        () => fail(`the host process did not boot within ${HOST_BOOT_TIMEOUT_MS / 1000} s (the machine is overloaded?)`),
        HOST_BOOT_TIMEOUT_MS,
      );
      const startClock = () => {
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            fail(
              `createApp() and listen() took longer than ${req.timeoutMs / 1000} s (an endless loop at import, or a connection that never completes?)`,
            ),
          req.timeoutMs,
        );
      };
      this.child.on('message', (m: HostMessage) => {
        if (m.type === 'ready' && !settled) {
          settled = true;
          clearTimeout(timer);
          resolvePort(m.port);
        } else if (m.type === 'error') {
          fail(`${m.phase ?? 'starting the service'} threw: ${m.stack ?? m.message}`);
        }
      });
      this.child.on('exit', (code, signal) => fail(`the process exited (${signal ?? `code ${code}`}) before listening`));
      this.idle.then(
        () => {
          if (settled) return;
          startClock();
          try {
            const start = {
              type: 'start',
              src: req.src,
              build: req.build,
              config: req.config,
              appName: req.appName,
              entry: req.entry ?? 'app',
            };
            this.child.send(start, (err) => {
              if (err) fail(`the host could not be reached (${err.message})`);
            });
          } catch (e) {
            fail(`the host could not be reached (${(e as Error).message})`);
          }
        },
        (e: Error) => fail(e.message),
      );
    });
  }

  /** Asks the service to close, and kills it if it has not exited within 5 s. */
  async close(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    // A host whose channel already closed (it is on its way out) cannot be asked: kill it.
    if (!child.connected) child.kill('SIGKILL');
    else child.send({ type: 'close' }, (err) => err && child.kill('SIGKILL'));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await done;
    clearTimeout(timer);
  }
}

/** Forks a host in this process and starts the service in it. */
async function launchLocal(req: StartRequest): Promise<HostHandle> {
  const host = new Host();
  const port = await host.start(req);
  return {
    pid: host.child.pid!,
    host: '127.0.0.1',
    port,
    logs: () => host.logs(),
    exited: () => host.exited(),
    exitStatus: () => host.exitStatus(),
    kill: (signal, opts) => host.kill(signal, opts),
    close: () => host.close(),
  };
}

/**
 * Starts one instance of the service: from the pool the request names (a grading sandbox), or the
 * one LAB_HOST_POOL names (every CLI run keeps one), or in a host forked here.
 */
export function launchHost(req: StartRequest): Promise<HostHandle> {
  const pool = req.pool ?? process.env.LAB_HOST_POOL;
  const { pool: _, ...plain } = req;
  return pool ? launchPooled(pool, plain) : launchLocal(plain);
}

// --- the pool (in a long-lived process) and its client (in test workers) ---------------------

type PoolMessage =
  | { type: 'log'; chunk: string }
  | { type: 'ready'; pid: number; port: number; host?: string }
  | { type: 'error'; message: string }
  | { type: 'exit'; status?: ExitStatus }
  | { type: 'killed'; status: ExitStatus };

function lines(socket: Socket, onLine: (line: string) => void): void {
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (data: string) => {
    buf += data;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line) onLine(line);
    }
  });
}

export interface HostPoolOptions {
  /** Libraries idle hosts load ahead (default: all the labs use). */
  preload?: readonly string[];
  /**
   * Hosts to fork ahead over the pool's whole life; past that, hosts are forked when asked for.
   * A one-shot run sets it to what the same lab needed last time, so that no host is forked for
   * nothing. Default: no limit.
   */
  budget?: number;
  /** How hosts are made (default: as in the kit's own tree). */
  runtime?: HostRuntime;
  /** The address clients reach this pool's services at (default 127.0.0.1). */
  advertise?: string;
}

let poolCounter = 0;

/** Keeps `size` hosts forked and idle, and serves them on a Unix socket. */
export class HostPool {
  private readonly idleHosts: Host[] = [];
  private readonly taken = new Set<Host>();
  private server?: Server;
  private closed = false;
  private forked = 0;
  private booting = 0;
  private readonly waiters: ((h: Host) => void)[] = [];
  private readonly maxBooting = Math.max(2, availableParallelism());
  /** Hosts handed out so far. */
  takenCount = 0;
  private preload: readonly string[];

  readonly socketPath: string;

  /** The socket goes in `dir` (a short path: sockets have a length limit), named after this process. */
  constructor(
    private readonly dir: string,
    private readonly size: number,
    private readonly opts: HostPoolOptions = {},
  ) {
    this.socketPath = join(dir, `${SOCKET_PREFIX}${process.pid}-${++poolCounter}.sock`);
    this.preload = opts.preload ?? DEFAULT_PRELOAD;
  }

  /** A pool of `size` idle hosts, listening on a socket in the temp folder. */
  static async open(size: number, opts: HostPoolOptions = {}, dir = tmpdir()): Promise<HostPool> {
    const p = new HostPool(dir, size, opts);
    await p.listen();
    return p;
  }

  /** Hosts forked from now on load these libraries while idle (e.g. when verify moves to the next lab). */
  setPreload(preload: readonly string[]): void {
    this.preload = preload;
  }

  async listen(): Promise<void> {
    // Sockets of pools whose process died without cleaning up (a kill -9).
    for (const name of readdirSync(this.dir))
      if (name.startsWith(SOCKET_PREFIX) && !pidAlive(Number(/^(\d+)/.exec(name.slice(SOCKET_PREFIX.length))?.[1])))
        rmSync(join(this.dir, name), { force: true });
    rmSync(this.socketPath, { force: true });
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((r, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.socketPath, () => r());
    });
    this.fill();
  }

  /**
   * Keeps `size` hosts idle, and forks for whoever waits. At most `maxBooting` hosts boot at once:
   * when many runs start together (verify, grade), hosts arrive a few at a time instead of all
   * competing for the CPU, and every start gets a host that has finished booting.
   */
  private fill(): void {
    const budget = this.opts.budget ?? Infinity;
    for (;;) {
      if (this.closed || this.booting >= this.maxBooting) return;
      const supply = this.idleHosts.length + this.booting;
      const ahead = this.forked < budget ? this.size : 0;
      if (supply >= ahead + this.waiters.length) return;
      const host = new Host(this.preload, this.opts.runtime);
      this.forked++;
      this.booting++;
      host.idle.then(
        () => {
          this.booting--;
          const waiter = this.waiters.shift();
          if (waiter) waiter(host);
          else if (this.closed) void host.close();
          else {
            this.idleHosts.push(host);
            host.child.once('exit', () => {
              const i = this.idleHosts.indexOf(host);
              if (i >= 0) this.idleHosts.splice(i, 1);
              this.fill();
            });
          }
          this.fill();
        },
        () => {
          this.booting--;
          this.fill();
        },
      );
    }
  }

  /** A booted host, now or as soon as one has booted. */
  private take(): Promise<Host> {
    this.takenCount++;
    const got = (host: Host) => {
      this.taken.add(host);
      host.child.once('exit', () => this.taken.delete(host));
      return host;
    };
    const idle = this.idleHosts.shift();
    if (idle) {
      this.fill();
      return Promise.resolve(got(idle));
    }
    return new Promise((resolve) => {
      this.waiters.push((h) => resolve(got(h)));
      this.fill();
    });
  }

  private serve(socket: Socket): void {
    const send = (m: PoolMessage) => socket.writable && socket.write(JSON.stringify(m) + '\n');
    let host: Host | undefined;
    let asked = false;
    let gone = false;
    const release = () => {
      gone = true;
      if (!host) return;
      const h = host;
      void h.close().then(() => {
        send({ type: 'exit', status: h.exitStatus() });
        socket.end();
      });
    };
    socket.on('error', () => undefined);
    socket.on('close', release);
    lines(socket, (line) => {
      const m = JSON.parse(line) as
        { type: 'start'; req: StartRequest } | { type: 'close' } | { type: 'kill'; signal: KillSignal; waitMs?: number };
      if (m.type === 'close') return release();
      if (m.type === 'kill') {
        if (host) void host.kill(m.signal, { waitMs: m.waitMs }).then((status) => send({ type: 'killed', status }));
        return;
      }
      if (asked) return;
      asked = true;
      void this.take().then((h) => {
        if (gone) return void h.close();
        host = h;
        if (h.logs()) send({ type: 'log', chunk: h.logs() });
        h.onOutput((chunk) => send({ type: 'log', chunk }));
        h.child.once('exit', () => send({ type: 'exit', status: h.exitStatus() }));
        h.start(m.req).then(
          (port) => send({ type: 'ready', pid: h.child.pid!, port, host: this.opts.advertise }),
          (e: Error) => {
            send({ type: 'error', message: e.message });
            socket.end();
          },
        );
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.server?.close();
    await Promise.all([...this.idleHosts, ...this.taken].map((h) => h.close()));
    rmSync(this.socketPath, { force: true });
  }

  /** For process.on('exit'): kills every host at once and removes the socket. */
  killNow(): void {
    this.closed = true;
    for (const h of [...this.idleHosts, ...this.taken]) h.child.kill('SIGKILL');
    rmSync(this.socketPath, { force: true });
  }
}

function launchPooled(socketPath: string, req: StartRequest): Promise<HostHandle> {
  return new Promise((resolveHandle, reject) => {
    const socket = createConnection(socketPath);
    let log = '';
    let exited = false;
    let status: ExitStatus | undefined;
    let settled = false;
    const killWaiters: ((s: ExitStatus) => void)[] = [];
    let closed: Promise<void> | undefined;
    const gone = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', (e) => {
      if (!settled) {
        settled = true;
        reject(
          new ServiceStartError(`service instance ${req.index + 1} did not start: the host pool at ${socketPath} is gone (${e.message})`),
        );
      }
    });
    socket.once('close', () => {
      exited = true;
      if (!settled) {
        settled = true;
        reject(new ServiceStartError(`service instance ${req.index + 1} did not start: the host pool closed the connection`));
      }
    });
    lines(socket, (line) => {
      const m = JSON.parse(line) as PoolMessage;
      if (m.type === 'log') {
        log += m.chunk;
        if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
      } else if (m.type === 'exit') {
        exited = true;
        status ??= m.status;
      } else if (m.type === 'killed') {
        exited = true;
        status = { code: m.status.code, signal: m.status.signal };
        for (const w of killWaiters.splice(0)) w(m.status);
      } else if (m.type === 'error' && !settled) {
        settled = true;
        reject(new ServiceStartError(m.message));
      } else if (m.type === 'ready' && !settled) {
        settled = true;
        resolveHandle({
          pid: m.pid,
          host: m.host ?? '127.0.0.1',
          port: m.port,
          logs: () => log,
          exited: () => exited,
          exitStatus: () => status && { ...status },
          kill: (signal, opts = {}) => {
            if (status) return Promise.resolve({ ...status, ms: 0 });
            return new Promise<ExitStatus>((resolveKill, rejectKill) => {
              killWaiters.push(resolveKill);
              if (socket.destroyed) return rejectKill(new Error(`instance ${req.index + 1}: the host pool connection is gone`));
              socket.write(JSON.stringify({ type: 'kill', signal, waitMs: opts.waitMs }) + '\n');
            });
          },
          close: () =>
            (closed ??= (async () => {
              if (!socket.destroyed) socket.write(JSON.stringify({ type: 'close' }) + '\n');
              await gone;
            })()),
        });
      }
    });
    socket.write(JSON.stringify({ type: 'start', req }) + '\n');
  });
}
