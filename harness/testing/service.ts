/**
 * startService(): runs N instances of the service under test, each in its own process, against the
 * same database and Redis. A fix hidden in one process's memory (a Map, a mutex, a counter) is
 * then visible as the bug it is.
 */
import { scanForConcepts } from '../teach.js';
import { launchHost, type ExitStatus, type HostHandle, type KillOptions, type KillSignal } from './host.js';
import { HttpClient } from './http.js';

export { ServiceStartError, type ExitStatus, type KillOptions, type KillSignal } from './host.js';

/** What every service's createApp(config) receives. */
export interface LabConfig {
  databaseUrl: string;
  redisUrl?: string;
  replicaUrl?: string;
  /** Lab-specific settings: lab.json "settings", overridden per test. */
  settings: Record<string, unknown>;
}

export interface Instance {
  index: number;
  url: string;
  http: HttpClient;
  pid: number;
  /** What the instance printed (stdout and stderr), most recent last. */
  logs(): string;
  /** True once the process has exited. */
  exited(): boolean;
  /** How the process ended (exit code or signal), once it has. */
  exitStatus(): ExitStatus | undefined;
  /**
   * Sends the process a signal, as an orchestrator would (SIGTERM to stop it, SIGKILL for a crash),
   * and resolves once it has exited: its exit code or signal, and how many ms it took. A process
   * still running after `waitMs` (default 30 s) is SIGKILLed and reported `forced`.
   */
  kill(signal: KillSignal, opts?: KillOptions): Promise<ExitStatus>;
}

/** A worker process (createWorker): an instance with no HTTP. */
export type WorkerInstance = Omit<Instance, 'url' | 'http'>;

/** Instances of the tree's worker entry point, createWorker(config). */
export interface Workers {
  appName: string;
  instances: WorkerInstance[];
  logs(): string;
  loggedConcepts(): Map<string, number>;
  close(): Promise<void>;
}

export interface Service {
  /** The application_name its Postgres sessions carry (set through PGAPPNAME, unless the service overrides it). */
  appName: string;
  instances: Instance[];
  /** Shortcut for instances[i % n].http: spread requests round-robin. */
  http(i?: number): HttpClient;
  /** Every instance's logs, concatenated. */
  logs(): string;
  /** Known failure codes (40P01, 23505, …) the instances logged, with counts. */
  loggedConcepts(): Map<string, number>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** The tree under test, as the learner knows it (for messages). */
  src: string;
  /** The same tree compiled (build.ts). */
  build: string;
  config: LabConfig;
  instances?: number;
  /** How long createApp + listen may take before the start counts as hung. */
  startTimeoutMs?: number;
  /** The host pool of the run's grading sandbox, when it has one (host.ts StartRequest.pool). */
  pool?: string;
  /** 'app' (default): createApp(config), listening; 'worker': createWorker(config). */
  entry?: 'app' | 'worker';
}

function startInstance(index: number, opts: StartOptions, appName: string): Promise<HostHandle> {
  return launchHost({
    index,
    src: opts.src,
    build: opts.build,
    config: opts.config,
    appName,
    timeoutMs: opts.startTimeoutMs ?? 20_000,
    pool: opts.pool,
    entry: opts.entry ?? 'app',
  });
}

let serviceCounter = 0;

export async function startService(opts: StartOptions): Promise<Service> {
  const n = opts.instances ?? 1;
  const appName = `lab-${opts.entry === 'worker' ? 'worker' : 'service'}-${process.pid}-${++serviceCounter}`;
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => startInstance(i, opts, appName)));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((h) => h.close()));
    throw failed.reason;
  }
  const instances: Instance[] = started.map((h, index) => {
    const url = `http://${h.host}:${h.port}`;
    return {
      index,
      url,
      http: new HttpClient(url),
      pid: h.pid,
      logs: () => h.logs(),
      exited: () => h.exited(),
      exitStatus: () => h.exitStatus(),
      kill: (signal, o) => h.kill(signal, o),
    };
  });
  let closed = false;
  const service: Service = {
    appName,
    instances,
    http: (i = 0) => instances[i % instances.length]!.http,
    logs: () => instances.map((x) => x.logs()).join('\n'),
    loggedConcepts: () => scanForConcepts(service.logs()),
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all(started.map((h) => h.close()));
    },
  };
  return service;
}

/** Starts `instances` processes of the tree's createWorker(config): same hosts, same isolation, no HTTP. */
export async function startWorkers(opts: Omit<StartOptions, 'entry'>): Promise<Workers> {
  const s = await startService({ ...opts, entry: 'worker' });
  return {
    appName: s.appName,
    instances: s.instances.map(({ url: _url, http: _http, ...w }) => w),
    logs: s.logs,
    loggedConcepts: s.loggedConcepts,
    close: s.close,
  };
}
