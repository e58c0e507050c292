/**
 * startService(): runs N instances of the service under test, each in its own process, against the
 * same database and Redis. A fix hidden in one process's memory (a Map, a mutex, a counter) is
 * then visible as the bug it is.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from '../paths.js';
import { scanForConcepts } from '../teach.js';
import { HttpClient } from './http.js';

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
  src: string;
  config: LabConfig;
  instances?: number;
  /** How long createApp + listen may take before the start counts as hung. */
  startTimeoutMs?: number;
}

const HOST = resolve(ROOT, 'harness', 'testing', 'service-host.ts');
const LOG_LIMIT = 256 * 1024;

export class ServiceStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceStartError';
  }
}

function startInstance(index: number, opts: StartOptions, appName: string): Promise<{ instance: Instance; child: ChildProcess }> {
  let log = '';
  let exited = false;
  const child = fork(HOST, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', '--enable-source-maps'],
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PGAPPNAME: appName,
      LAB_HOST_SRC: opts.src,
      LAB_HOST_CONFIG: JSON.stringify(opts.config),
      LAB_SERVICES: undefined,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const append = (chunk: Buffer) => {
    log += chunk.toString();
    if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  child.on('exit', () => (exited = true));
  const timeoutMs = opts.startTimeoutMs ?? 20_000;
  return new Promise((resolvePromise, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      const tail = log.trim().split('\n').slice(-15).join('\n');
      reject(new ServiceStartError(`service instance ${index + 1} did not start: ${why}${tail ? `\n--- its output ---\n${tail}` : ''}`));
    };
    const timer = setTimeout(
      () =>
        fail(
          `createApp() and listen() took longer than ${timeoutMs / 1000} s (an endless loop at import, or a connection that never completes?)`,
        ),
      timeoutMs,
    );
    child.on('message', (m: { type: string; port?: number; message?: string; stack?: string; phase?: string }) => {
      if (m.type === 'ready' && !settled) {
        settled = true;
        clearTimeout(timer);
        const url = `http://127.0.0.1:${m.port}`;
        resolvePromise({
          child,
          instance: { index, url, http: new HttpClient(url), pid: child.pid!, logs: () => log, exited: () => exited },
        });
      } else if (m.type === 'error') {
        fail(`${m.phase ?? 'starting the service'} threw: ${m.stack ?? m.message}`);
      }
    });
    child.on('exit', (code, signal) => {
      fail(`the process exited (${signal ?? `code ${code}`}) before listening`);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    child.send({ type: 'close' });
  } catch {
    child.kill('SIGKILL');
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await done;
  clearTimeout(timer);
}

let serviceCounter = 0;

export async function startService(opts: StartOptions): Promise<Service> {
  const n = opts.instances ?? 1;
  const appName = `lab-service-${process.pid}-${++serviceCounter}`;
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => startInstance(i, opts, appName)));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => stopChild(s.child)));
    throw failed.reason;
  }
  const instances = started.map((s) => s.instance);
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
      await Promise.all(started.map((s) => stopChild(s.child)));
    },
  };
  return service;
}
