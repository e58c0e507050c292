/**
 * `lab serve`: a lab's service, by hand. It takes its share of the servers the way a test file does
 * (testing/fixtures.ts: its own database and role, Redis logical database, replica copy), seeds it
 * from labs/X/load/seed.sql, starts the stubs lab.json "serve" declares (a card acquirer, say) and
 * its "workers" (createWorker processes, e.g. a job queue's), runs N instances of the tree in host
 * processes, and puts a round-robin proxy in front of them on one port. `lab load` points k6 at
 * that port.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildTree } from './build.js';
import { ensureTemplate } from './databases.js';
import type { Endpoints } from './endpoints.js';
import type { Lab } from './lab-schema.js';
import { endpointsFor } from './runner.js';
import { CONFIG_KEY, setUpServices, tearDownServices, type FixtureState } from './testing/fixtures.js';
import { startService, startWorkers, type Service } from './testing/service.js';
import type { StagedTree } from './trees.js';

export interface Served {
  /** The round-robin proxy in front of the instances. */
  url: string;
  instances: string[];
  /** Shell lines that open the served database and Redis by hand. */
  psql: string;
  redisCli?: string;
  /** The stubs started for lab.json "serve", by the setting they fill. */
  stubs: Record<string, string>;
  /** Worker processes (createWorker) started for lab.json "serve.workers", by pid. */
  workers: number[];
  close(): Promise<void>;
}

export interface ServeOptions {
  instances: number;
  /** 0: any free port. */
  port: number;
}

const listen = (server: Server, port: number) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });

/** A stub that answers each declared "METHOD /path" with its status and JSON body; "{n}" in the body counts calls. */
async function startStub(routes: Record<string, { status: number; body: unknown }>): Promise<{ url: string; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    const route = routes[`${req.method} ${req.url?.split('?')[0]}`];
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no such route in the stub' }));
      return;
    }
    n++;
    res.writeHead(route.status, { 'content-type': 'application/json' }).end(JSON.stringify(route.body).replaceAll('{n}', String(n)));
  });
  const port = await listen(server, 0);
  return { url: `http://127.0.0.1:${port}`, server };
}

/** Spreads requests over the instances in turn; an instance that does not answer gives 502. */
function roundRobin(service: Service): Server {
  let next = 0;
  return createServer((req, res) => {
    const target = new URL(service.instances[next++ % service.instances.length]!.url);
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `instance ${target.host} did not answer: ${e.message}` }));
    });
    req.pipe(upstream);
  });
}

export async function serveLab(lab: Lab, tree: StagedTree, all: Endpoints, opts: ServeOptions): Promise<Served> {
  const endpoints = endpointsFor(lab, all);
  const build = buildTree(tree.src);
  const template = await ensureTemplate(endpoints.postgres!, join(tree.src, 'schema.sql'));
  const state: FixtureState = {
    provided: { slug: lab.slug, src: tree.src, build, endpoints, template, settings: lab.settings },
    lab: {},
    urls: {},
    cleanups: [],
  };
  const closers: Array<() => Promise<unknown> | unknown> = [() => tearDownServices(state)];
  const close = async () => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    await setUpServices(state);
    const seed = join(lab.dir, 'load', 'seed.sql');
    if (existsSync(seed)) await state.lab.db!.query(readFileSync(seed, 'utf8'));
    // Served once the replica, if any, has the seed too: the first read may well go there.
    await state.lab.replication?.catchUp();
    const settings: Record<string, unknown> = { ...lab.settings };
    const stubs: Record<string, string> = {};
    for (const [key, routes] of Object.entries(lab.serve?.stubs ?? {})) {
      const stub = await startStub(routes);
      closers.push(() => new Promise((r) => stub.server.close(r)));
      settings[key] = stubs[key] = stub.url;
    }
    const config: Record<string, unknown> = { settings };
    for (const [name, url] of Object.entries(state.urls)) config[CONFIG_KEY[name as keyof typeof CONFIG_KEY]] = url;
    const service = await startService({ src: tree.src, build, config: config as never, instances: opts.instances });
    closers.push(() => service.close());
    const w = lab.serve?.workers ?? 0;
    const workerPids: number[] = [];
    for (const group of typeof w === 'number' ? (w > 0 ? [{ instances: w }] : []) : w) {
      const own = 'settings' in group ? { ...config, settings: { ...settings, ...group.settings } } : config;
      const workers = await startWorkers({ src: tree.src, build, config: own as never, instances: group.instances });
      closers.push(() => workers.close());
      workerPids.push(...workers.instances.map((i) => i.pid));
    }
    const proxy = roundRobin(service);
    const port = await listen(proxy, opts.port);
    closers.push(() => new Promise((r) => proxy.close(r)));
    const db = new URL(state.urls.postgres!);
    return {
      url: `http://127.0.0.1:${port}`,
      instances: service.instances.map((i) => i.url),
      psql: `psql '${db.href}'`,
      redisCli: state.urls.redis ? `redis-cli -u '${state.urls.redis}'` : undefined,
      stubs,
      workers: workerPids,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Resolves on Ctrl-C or SIGTERM. */
export function untilInterrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => resolve(s));
  });
}
