/**
 * useLab(): the per-test-file fixture every lab test starts with. In beforeAll it clones a fresh
 * database from the schema template, takes a Redis logical database of its own, and starts the
 * service under test; in afterAll it stops everything and drops the database.
 */
import pg from 'pg';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, inject } from 'vitest';
import { pgUrl, type Endpoints } from '../endpoints.js';
import { FaultPoint, LOOPBACK_SIDE, type ServiceSide } from '../faults.js';
import type { ServiceName } from '../services.js';
import type { ReplicationProbe } from '../replication.js';
import { CONFIG_KEY, setUpServices, tearDownServices, type FixtureState } from './fixtures.js';
import type { PgStats } from './pg-stats.js';
import { Router, type RouterOptions } from './router.js';
import { startService, startWorkers, type LabConfig, type Service, type Workers } from './service.js';
import { trace } from '../trace.js';

export interface ProvidedLab {
  slug: string;
  /** The tree under test, as the learner knows it. */
  src: string;
  /** The same tree compiled to JavaScript (build.ts), which service instances load. */
  build: string;
  endpoints: Endpoints;
  template: string;
  settings: Record<string, unknown>;
  /**
   * Set when the tree runs in a grading sandbox (servers/sandbox.ts): its instances come from the
   * sandbox's host pool, and what the harness listens on for them (fault points, stubs) is where the
   * sandbox reaches it, for the sandbox only.
   */
  sandbox?: { pool: string; side: ServiceSide; address: string };
  /**
   * Other trees a test may start instances of beside the tree under test (lab.json "trees"), each
   * staged and compiled by the runner: "solution", or a tree the lab ships in labs/NN-slug/trees/NAME.
   * They are the kit's own code: in a grading sandbox they run outside it, as the harness does.
   */
  trees?: Record<string, { src: string; build: string }>;
}

/** Where this file's service instances reach what the tests listen on for them. */
export function serviceSide(): ServiceSide {
  return inject('lab').sandbox?.side ?? LOOPBACK_SIDE;
}

declare module 'vitest' {
  export interface ProvidedContext {
    lab: ProvidedLab;
  }
}

export interface UseLabOptions {
  /** Instances of the service to start before the tests (0 = start none). Default 1. */
  instances?: number;
  /** Settings merged over lab.json "settings" for this file's service. */
  settings?: Record<string, unknown>;
}

export interface ServiceOptions {
  instances?: number;
  settings?: Record<string, unknown>;
  /** Point the service somewhere else than the real server, e.g. a fault point. */
  databaseUrl?: string;
  redisUrl?: string;
  replicaUrl?: string;
  /**
   * Run another tree than the one under test, against the same database and Redis: a name lab.json
   * lists in "trees" ("solution", or a tree the lab ships in labs/NN-slug/trees/NAME, e.g. "v1").
   */
  tree?: string;
  /**
   * How long createApp(config) and listen(), or createWorker(config), may take before the start
   * counts as hung (default 20 s): longer for a worker that does its work before it returns, such
   * as a migration job.
   */
  startTimeoutMs?: number;
}

export interface LabContext {
  /** The test file's own database, and a URL to it. */
  databaseUrl: string;
  /** The test file's own Redis logical database. */
  redisUrl: string;
  redisDb: number;
  /** A harness-owned pool on the test database, to seed rows and check what was stored. */
  db: pg.Pool;
  /** A harness-owned Redis client on the test file's logical database. */
  redis: Redis;
  /** Figures Postgres keeps about this database. */
  stats: PgStats;
  /**
   * Labs that declare "replica": the test database as the streaming replica serves it. Every commit
   * on the primary shows up here replication.applyDelayMs (500 ms) later, never sooner. The service
   * receives this URL as config.replicaUrl.
   */
  replicaUrl: string;
  /** Labs that declare "replica": a harness-owned, read-only pool on the replica's copy of the test database. */
  replicaDb: pg.Pool;
  /**
   * Labs that declare "replica": the replica's own figures for the test database (pg_stat_database,
   * pg_stat_statements as counted by the replica), i.e. the reads the replica itself served.
   */
  replicaStats: PgStats;
  /** Labs that declare "replica": WAL positions, and catchUp() to wait until the replica has replayed every commit so far. */
  replication: ReplicationProbe;
  /**
   * Labs that declare farBehind (lab.json): a standby that stopped replaying at the start of the
   * run, while the primary's WAL position had seven hex digits after the slash (`frozenAt`); every
   * position the primary reports now has eight. Its database was made from the lab's pristine
   * schema and seed, and is shared by every run on these servers: use rows of your own (claim them
   * through a sequence in the seed). Pass databaseUrl and replicaUrl to startService().
   */
  farBehind: {
    /** The far-behind database on the primary, where writes go. */
    databaseUrl: string;
    /** The same database on the far-behind standby: everything written since the run began is missing. */
    replicaUrl: string;
    /** A harness-owned pool on the primary's far-behind database. */
    db: pg.Pool;
    /** The standby's replay position (pg_last_wal_replay_lsn()), which never moves again. */
    frozenAt: string;
  };
  /** The service started before the tests (see UseLabOptions.instances). */
  service: Service;
  /** Servers the harness started: only for fault points and replica tooling. */
  endpoints: Endpoints;
  /** The config a service would receive. */
  config(opts?: ServiceOptions): LabConfig;
  /**
   * Opens a fault point in front of this file's Redis, database or replica: pass fp.url to
   * startService ({ redisUrl: fp.url }, { replicaUrl: fp.url }) and degrade the link with
   * fp.latency(), fp.timeout(), fp.down(), … . Closed after the file's tests.
   */
  faultPoint(server: ServiceName): Promise<FaultPoint & { url: string }>;
  /** Starts (more) instances of the service; they stop after the file's tests. */
  startService(opts?: ServiceOptions): Promise<Service>;
  /**
   * Starts processes of the tree's worker entry point, createWorker(config) (exported from app.ts
   * beside createApp): each its own process, like a service instance, with no HTTP. Stopped after
   * the file's tests; kill one with workers.instances[i].kill('SIGKILL').
   */
  startWorkers(opts?: ServiceOptions): Promise<Workers>;
  /**
   * A readiness-aware router on 127.0.0.1 (router.ts): add(instance) puts an instance behind it,
   * which gets requests while its readiness probe answers 200. Closed after the file's tests.
   */
  router(opts?: RouterOptions): Promise<Router>;
  /**
   * Runs fn while no other run on the same servers is inside its own exclusive section. For the
   * short, timing-sensitive bursts of a test (200 requests at once, reads with a latency bound):
   * when several trees are verified or graded at once, their bursts then never pile onto the CPU
   * together. Waiting for the section counts towards the test's time-out.
   *
   * `{ slots: n }` (n > 1) is for sections that mostly wait (reads during an outage, each waiting
   * out a command time-out): up to n of them, from different runs, may overlap each other, but never
   * a section taken without slots.
   */
  exclusive<T>(fn: () => Promise<T>, opts?: { slots?: number }): Promise<T>;
}

/** The advisory lock behind exclusive(), taken in the servers' admin database (shared by every run). */
const EXCLUSIVE_LOCK = 7_340_002;

export function useLab(opts: UseLabOptions = {}): LabContext {
  const state: Partial<LabContext> = {};
  const services: Array<Service | Workers> = [];
  const faultPoints: FaultPoint[] = [];
  const routers: Router[] = [];
  let provided: ProvidedLab;
  let fixtures: FixtureState | undefined;

  beforeAll(async () => {
    trace('fixture-setup');
    provided = inject('lab');
    const ep = provided.endpoints;
    fixtures = { provided, lab: state, urls: {}, cleanups: [] };
    state.endpoints = ep;
    await setUpServices(fixtures);
    const urls = fixtures.urls;
    // Each service's URL under its LabConfig key (fixtures.ts), unless the test points it elsewhere.
    state.config = (o: ServiceOptions = {}) => {
      const config: Record<string, unknown> = {};
      for (const [name, url] of Object.entries(urls) as Array<[keyof typeof CONFIG_KEY, string]>) config[CONFIG_KEY[name]] = url;
      for (const key of Object.values(CONFIG_KEY)) if (o[key] !== undefined) config[key] = o[key];
      return { ...config, settings: { ...provided.settings, ...opts.settings, ...o.settings } } as LabConfig;
    };
    const treeOf = (name?: string) => {
      if (name === undefined) return { src: provided.src, build: provided.build };
      const t = provided.trees?.[name];
      if (!t)
        throw new Error(
          `no tree "${name}": lab.json "trees" lists ${
            Object.keys(provided.trees ?? {})
              .map((n) => `"${n}"`)
              .join(', ') || 'none'
          }`,
        );
      return t;
    };
    // The tree under test runs in the run's grading sandbox, when it has one; the kit's own trees
    // (lab.json "trees") run outside it, as the harness does.
    const poolOf = (name?: string) => (name === undefined ? provided.sandbox?.pool : undefined);
    state.startService = async (o: ServiceOptions = {}) => {
      const s = await startService({
        ...treeOf(o.tree),
        config: state.config!(o),
        instances: o.instances ?? 1,
        pool: poolOf(o.tree),
        startTimeoutMs: o.startTimeoutMs,
      });
      services.push(s);
      return s;
    };
    state.startWorkers = async (o: ServiceOptions = {}) => {
      const w = await startWorkers({
        ...treeOf(o.tree),
        config: state.config!(o),
        instances: o.instances ?? 1,
        pool: poolOf(o.tree),
        startTimeoutMs: o.startTimeoutMs,
      });
      services.push(w);
      return w;
    };
    state.router = async (o?: RouterOptions) => {
      const r = await Router.open(o);
      routers.push(r);
      return r;
    };
    state.faultPoint = async (server) => {
      const ep = provided.endpoints[server];
      if (!ep) throw new Error(`this lab declares no ${server} service`);
      const fp = await FaultPoint.open(ep.host, ep.port, provided.sandbox?.side);
      faultPoints.push(fp);
      return Object.assign(fp, { url: fp.urlFor(urls[server]!) });
    };
    state.exclusive = async <T>(fn: () => Promise<T>, o: { slots?: number } = {}): Promise<T> => {
      const slots = Math.max(1, Math.floor(o.slots ?? 1));
      const c = new pg.Client({ connectionString: pgUrl(ep.postgres!), application_name: 'lab-harness-exclusive' });
      c.on('error', () => undefined);
      await c.connect();
      try {
        if (slots === 1) await c.query('SELECT pg_advisory_lock($1)', [EXCLUSIVE_LOCK]);
        else {
          // Shared with the other slotted sections, exclusive against sections without slots…
          await c.query('SELECT pg_advisory_lock_shared($1)', [EXCLUSIVE_LOCK]);
          // …and one of `slots` places among them.
          for (let taken = false; !taken;) {
            for (let i = 1; i <= slots && !taken; i++)
              taken = (await c.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [EXCLUSIVE_LOCK, i])).rows[0].ok;
            if (!taken) await new Promise((r) => setTimeout(r, 50));
          }
        }
        return await fn();
      } finally {
        // Ending the session releases the locks, even if fn threw or the unlock would fail.
        await c.end().catch(() => undefined);
      }
    };
    const n = opts.instances ?? 1;
    if (n > 0) state.service = await state.startService({ instances: n });
    trace('fixture-ready');
  });

  afterAll(async () => {
    trace('fixture-teardown');
    // All at once: DROP DATABASE … WITH (FORCE) ends whatever sessions are still closing.
    await Promise.allSettled([
      ...services.map((s) => s.close()),
      ...faultPoints.map((f) => f.close()),
      ...routers.map((r) => r.close()),
      fixtures ? tearDownServices(fixtures) : undefined,
    ]);
    trace('fixture-done');
  });

  return new Proxy(state as LabContext, {
    get(target, prop) {
      const v = (target as unknown as Record<string | symbol, unknown>)[prop];
      if (v === undefined && typeof prop === 'string' && prop !== 'then')
        throw new Error(`lab.${prop} is not ready: use it inside a test or hook, after useLab()'s beforeAll has run`);
      return v;
    },
  });
}
