/**
 * The worker-side half of each backing service (services.ts): what a test file gets of it. Each
 * fixture takes the file's share (a database cloned from the template, a Redis logical database,
 * the replica's copy of that database), fills its part of the LabContext, names the URL service
 * instances get (and a fault point is put in front of), and registers its clean-up. useLab() runs
 * them in registry order, for the services the lab's endpoints include.
 */
import pg from 'pg';
import { allocateRedisDb, createTestDatabase, dropTestDatabase } from '../databases.js';
import { farBehindDatabase, pgUrl, redisUrl, type Endpoints, type PgEndpoint } from '../endpoints.js';
import { ReplicationProbe, waitForDatabase } from '../replication.js';
import { SERVICE_NAMES, SERVICES, type ServiceName } from '../services.js';
import type { LabContext, ProvidedLab } from './context.js';
import { PgStats } from './pg-stats.js';
import type { LabConfig } from './service.js';

export interface FixtureState {
  provided: ProvidedLab;
  /** The LabContext being filled. */
  lab: Partial<LabContext>;
  /** The URL each service's instances get, as LabConfig names it. */
  urls: Partial<Record<ServiceName, string>>;
  /** The service's own login on the test database (databases.ts), once postgres has made it. */
  serviceLogin?: { user: string; password: string; database: string };
  /** Run in reverse at the end of the file, all settled. */
  cleanups: Array<() => unknown>;
}

/** Which LabConfig key carries each service's URL. */
export const CONFIG_KEY = { postgres: 'databaseUrl', redis: 'redisUrl', replica: 'replicaUrl' } as const satisfies Record<
  ServiceName,
  keyof LabConfig
>;

const harnessPool = (url: string, max: number) => {
  const p = new pg.Pool({ connectionString: url, max, application_name: 'lab-harness' });
  p.on('error', () => undefined);
  return p;
};

type Fixture = (s: FixtureState, ep: Endpoints) => Promise<void>;

const FIXTURES: { [K in ServiceName]: Fixture } = {
  async postgres(s, ep) {
    const primary = ep.postgres!;
    const testDb = await createTestDatabase(primary, s.provided.template);
    s.cleanups.push(() => dropTestDatabase(primary, testDb.name));
    s.serviceLogin = { user: testDb.user, password: testDb.password, database: testDb.name };
    // The service logs in as the database's own role (databases.ts); the harness as the superuser.
    s.urls.postgres = pgUrl({ ...primary, user: testDb.user, password: testDb.password }, testDb.name);
    s.lab.databaseUrl = s.urls.postgres;
    s.lab.db = harnessPool(pgUrl(primary, testDb.name), 5);
    s.cleanups.push(() => s.lab.db!.end());
    s.lab.stats = new PgStats(s.lab.db);
  },

  async redis(s, ep) {
    s.lab.redisDb = await allocateRedisDb(ep.redis!);
    s.urls.redis = redisUrl(ep.redis!, s.lab.redisDb);
    s.lab.redisUrl = s.urls.redis;
    // Loaded only by labs that use Redis (ioredis costs a worker about 0.2 s of CPU to load).
    const { Redis } = await import('ioredis');
    s.lab.redis = new Redis(s.urls.redis, { maxRetriesPerRequest: 2 });
    s.lab.redis.on('error', () => undefined);
    s.cleanups.push(() => s.lab.redis!.disconnect());
  },

  async replica(s, ep) {
    const login = s.serviceLogin!;
    const replica: PgEndpoint = ep.replica!;
    // CREATE DATABASE reaches the replica only after the apply delay, and so does the hand-over
    // of its objects to the service's role.
    await waitForDatabase(replica, login.database, { handedOver: true });
    s.urls.replica = pgUrl({ ...replica, user: login.user, password: login.password }, login.database);
    s.lab.replicaUrl = s.urls.replica;
    s.lab.replicaDb = harnessPool(pgUrl(replica, login.database), 3);
    s.cleanups.push(() => s.lab.replicaDb!.end());
    s.lab.replicaStats = new PgStats(s.lab.replicaDb);
    s.lab.replication = new ReplicationProbe(s.lab.db!, s.lab.replicaDb);
    if (ep.farBehind) {
      const name = farBehindDatabase(s.provided.slug);
      const db = harnessPool(pgUrl(ep.postgres!, name), 2);
      s.cleanups.push(() => db.end());
      const service = { user: ep.farBehind.serviceUser, password: ep.farBehind.servicePassword };
      s.lab.farBehind = {
        databaseUrl: pgUrl({ ...ep.postgres!, ...service }, name),
        replicaUrl: pgUrl({ ...ep.farBehind, ...service }, name),
        db,
        frozenAt: ep.farBehind.frozenAt,
      };
    }
  },
};

/** The services these endpoints include, in registry order (a service's fixture may use an earlier one's). */
export function servicesIn(ep: Endpoints): ServiceName[] {
  return SERVICE_NAMES.filter((n) => ep[SERVICES[n].endpoints[0]] !== undefined);
}

/** Sets up every service's share for one test file. */
export async function setUpServices(s: FixtureState): Promise<void> {
  const ep = s.provided.endpoints;
  if (!ep.postgres) throw new Error('this lab declares no postgres service');
  for (const name of servicesIn(ep)) await FIXTURES[name](s, ep);
}

/** Runs every clean-up at once (DROP DATABASE … WITH (FORCE) ends whatever sessions are still closing). */
export async function tearDownServices(s: FixtureState): Promise<void> {
  await Promise.allSettled(s.cleanups.reverse().map(async (f) => f()));
}
