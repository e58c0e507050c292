/**
 * Runs one instance of a lab's service in its own process, the way production runs it: its own
 * memory, its own connection pools. Forked by host.ts; never imported by a service.
 *
 * It runs under plain `node` (compiled by build.ts), so it imports only Node's built-ins.
 *
 * Protocol (over the IPC channel): once loaded, the host says { type: 'idle' }; the parent sends
 * { type: 'start', src, build, config, appName, entry } once; the host answers { type: 'ready', port }
 * or { type: 'error', message }. The parent sends { type: 'close' } to stop. If the parent goes away,
 * the host exits.
 *
 * entry 'app' (the default) runs createApp(config) and listens on 127.0.0.1, port 0; entry 'worker'
 * runs createWorker(config), exported from app.ts beside createApp, which returns { close() } and
 * listens on nothing (the host answers port 0). createApp may also return started(server), which
 * the host calls with the listening http.Server (a service that drains and closes it on SIGTERM
 * needs it). Signals are the service's own business: the host
 * installs no handler, so a SIGTERM the service does not handle ends it as it would end any Node
 * process.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { Server } from 'node:http';

const send = (m: unknown) => process.send?.(m);

/**
 * Libraries the lab's services use, loaded while the host waits, so that a start only loads the
 * tree itself: the pool's vendor bundle (LAB_HOST_VENDOR, see build.ts vendorBundle), or else the
 * libraries it names (LAB_HOST_PRELOAD), from node_modules.
 */
const PRELOAD = (process.env.LAB_HOST_PRELOAD ?? 'express,pg,ioredis,zod').split(',').filter(Boolean);
/** Keep in step with build.ts (VENDOR_GLOBAL, VENDOR_MARK): this script imports nothing of the kit's. */
const VENDOR_GLOBAL = Symbol.for('backend-labs.vendor');
const VENDOR_MARK = '.vendor';
const nodeRequire = createRequire(import.meta.url);
let vendorLoaded: string | undefined;

function loadVendor(bundle: string): void {
  (globalThis as Record<symbol, unknown>)[VENDOR_GLOBAL] = nodeRequire(bundle);
  vendorLoaded = bundle;
}

async function preload(): Promise<void> {
  const bundle = process.env.LAB_HOST_VENDOR;
  if (bundle) {
    try {
      return loadVendor(bundle);
    } catch {
      /* fall back to the libraries themselves */
    }
  }
  await Promise.all(PRELOAD.map((m) => import(m).catch(() => undefined)));
}

/** A tree compiled against a vendor bundle (build.ts) needs that bundle's libraries, whatever this host preloaded. */
function vendorFor(build: string): void {
  let bundle: string;
  try {
    bundle = readFileSync(join(build, VENDOR_MARK), 'utf8');
  } catch {
    return;
  }
  if (bundle !== vendorLoaded) loadVendor(bundle);
}

interface StartMessage {
  type: 'start';
  /** The tree as the learner knows it, for messages. */
  src: string;
  /** The tree compiled to JavaScript (build.ts): app.js is loaded from here. */
  build: string;
  config: unknown;
  appName: string;
  entry?: 'app' | 'worker';
}

async function waitForStart(): Promise<StartMessage> {
  await preload();
  return new Promise((resolve) => {
    const onMessage = (m: { type?: string }) => {
      if (m?.type === 'close') process.exit(0);
      if (m?.type !== 'start') return;
      process.off('message', onMessage);
      resolve(m as StartMessage);
    };
    process.on('message', onMessage);
    process.on('disconnect', () => process.exit(0));
    send({ type: 'idle' });
  });
}

/**
 * Node writes to a pipe synchronously on Linux: a service that logs a lot (a Redis outage, an error
 * per request) would stall its whole event loop whenever the harness process reading the pipe is
 * a moment late, and its own timeouts would then fire for a reason that is not its own. Make the
 * writes asynchronous (buffered in this process) instead.
 */
function nonBlockingOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const handle = (stream as unknown as { _handle?: { setBlocking?: (b: boolean) => unknown } })._handle;
    handle?.setBlocking?.(false);
  }
}

async function main(): Promise<void> {
  // Named in ps, top and process accounting: a service instance, not the harness.
  process.title = 'lab-host';
  nonBlockingOutput();
  const { src, build, config, appName, entry = 'app' } = await waitForStart();
  // pg reads PGAPPNAME when a client is created, so this names the service's sessions.
  process.env.PGAPPNAME = appName;
  let mod: { createApp?: unknown; createWorker?: unknown };
  try {
    vendorFor(build);
    mod = await import(pathToFileURL(join(build, 'app.js')).href);
  } catch (e) {
    throw Object.assign(e as Error, { phase: 'importing app.ts' });
  }
  if (entry === 'worker') return runWorker(mod, src, config);
  if (typeof mod.createApp !== 'function') throw new Error(`${join(src, 'app.ts')} does not export createApp(config)`);
  interface Made {
    app: { listen(port: number, host: string, cb: (err?: Error) => void): Server };
    close(): Promise<void>;
    /** Optional: handed the listening server, for a service that shuts itself down (its own SIGTERM handler). */
    started?(server: Server): void;
  }
  let made: Made;
  try {
    made = (await (mod.createApp as (c: unknown) => unknown)(config)) as typeof made;
  } catch (e) {
    throw Object.assign(e as Error, { phase: 'createApp(config)' });
  }
  if (!made || typeof made.app?.listen !== 'function' || typeof made.close !== 'function')
    throw new Error('createApp(config) must return { app, close }');
  const server: Server = await new Promise((resolve, reject) => {
    // Loopback, except in a grading sandbox, whose container is reached at its own address.
    const s = made.app.listen(0, process.env.LAB_HOST_LISTEN || '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  if (typeof made.started === 'function') {
    try {
      made.started(server);
    } catch (e) {
      throw Object.assign(e as Error, { phase: 'started(server)' });
    }
  }
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    server.closeAllConnections?.();
    await new Promise((r) => server.close(() => r(undefined)));
    await Promise.race([made.close(), new Promise((r) => setTimeout(r, 3_000))]);
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'close') void shutdown();
  });
  send({ type: 'ready', port });
}

/** entry 'worker': createWorker(config) starts its work and returns { close() }; nothing listens. */
async function runWorker(mod: { createWorker?: unknown }, src: string, config: unknown): Promise<void> {
  if (typeof mod.createWorker !== 'function')
    throw new Error(`${join(src, 'app.ts')} does not export createWorker(config) (the worker's entry point, beside createApp)`);
  let made: { close?: unknown };
  try {
    made = (await (mod.createWorker as (c: unknown) => unknown)(config)) as typeof made;
  } catch (e) {
    throw Object.assign(e as Error, { phase: 'createWorker(config)' });
  }
  if (!made || typeof made.close !== 'function') throw new Error('createWorker(config) must return { close }');
  const close = made.close as () => Promise<void>;
  let closing = false;
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'close' || closing) return;
    closing = true;
    // A worker may be finishing a job: it gets a little longer than an app to close.
    void Promise.race([Promise.resolve().then(close), new Promise((r) => setTimeout(r, 4_000))]).finally(() => process.exit(0));
  });
  send({ type: 'ready', port: 0 });
}

main().catch((e: unknown) => {
  const err = e as Error;
  send({ type: 'error', message: err?.message ?? String(e), stack: err?.stack, phase: (err as { phase?: string })?.phase });
  setTimeout(() => process.exit(1), 50);
});
