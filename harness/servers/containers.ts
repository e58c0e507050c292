/**
 * Starts and stops the servers a lab needs, through Testcontainers. The harness only ever talks to
 * servers it started here, or to endpoints handed to it explicitly in LAB_SERVICES.
 *
 * Every container carries the label dev.backend-labs.owner=<pid>. Ryuk (Testcontainers' reaper) may
 * be disabled, so the harness stops its own containers at exit, on SIGINT/SIGTERM and on a crash,
 * and `sweepOrphans()` removes containers whose owning process died without cleaning up.
 */
import type { StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import { randomBytes } from 'node:crypto';
import { EnvironmentError } from '../errors.js';
import { OWN_SIGNAL_HANDLER } from '../pids.js';
import { interrupted, markInterrupted, refuseIfInterrupted } from '../interrupt.js';
import { pgUrl, REDIS_DATABASES, redisUrl, type Endpoints } from '../endpoints.js';
import { isOrphan, mineFilter, ownerLabels, thisHostFilter } from './owner.js';
import { IMAGES, POSTGRES_ARGS, POSTGRES_SHM_BYTES, ryukImage, ryukMissing } from './images.js';
import { withRequired, type ServiceName } from '../services.js';
import { connectError, dockerHostTarget, endpointOf, onLoopback } from './bind.js';
import { PG_PORT, postgresContainer } from './pg-container.js';

const REDIS_PORT = 6379;
import { startReplicaPair, type FarBehindSpec, type StartedReplicaPair } from './replica.js';

export type { PgEndpoint, RedisEndpoint, Endpoints } from '../endpoints.js';
export { pgUrl, redisUrl };

export { EnvironmentError };

interface Stoppable {
  stop(opts?: { timeout?: number }): Promise<unknown>;
}
const running = new Set<Stoppable>();
let handlersInstalled = false;

function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  let exiting: Promise<never> | undefined;
  // One clean-up, one exit: a crash while stopping for Ctrl-C (a client of a server just removed)
  // still exits with the signal's code.
  const stopThenExit = () =>
    (exiting ??= stopAll().finally(() => {
      const signal = interrupted();
      process.exit(signal ? (signal === 'SIGINT' ? 130 : 143) : 1);
    }) as Promise<never>);
  const onSignal = Object.assign(
    (signal: NodeJS.Signals) => {
      markInterrupted(signal);
      void stopThenExit();
    },
    { [OWN_SIGNAL_HANDLER]: true },
  );
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('uncaughtException', (err) => {
    if (!interrupted()) console.error(err);
    void stopThenExit();
  });
}

const pending = new Set<Promise<unknown>>();

/**
 * Tracks a container start (or a sandbox's: servers/sandbox.ts), so that a Ctrl-C during start-up
 * still cleans it up: stopAll() waits for the starts under way, then removes what they made. Once
 * the process is stopping, nothing new starts, so nothing can be made after that removal.
 */
export function tracked<T>(what: string, start: () => Promise<T>): Promise<T> {
  refuseIfInterrupted(what);
  const p = start();
  pending.add(p);
  return p.finally(() => pending.delete(p));
}

/**
 * Stops every container this process started, including ones still starting: it removes by the
 * owner label, which every container carries from the moment it is created. Safe to call twice.
 */
export async function stopAll(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.allSettled(all.map((c) => c.stop({ timeout: 1_000 })));
  await removeOwned();
  if (pending.size) {
    await Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 15_000))]);
    await removeOwned();
  }
}

/**
 * Force-removes every container labelled as this process's, then its networks (a grading
 * sandbox's, a replica pair's), and looks again until none is left. Once is not enough: a removal
 * already under way (a sandbox's own close() at the same moment) answers 409 at once, and the
 * network cannot go while that container is still on it.
 */
async function removeOwned(withinMs = 15_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  try {
    const client = await getContainerRuntimeClient();
    const docker = client.container.dockerode;
    for (;;) {
      const list = await docker.listContainers({ all: true, filters: { label: mineFilter() } });
      await Promise.allSettled(list.map((info) => docker.getContainer(info.Id).remove({ force: true })));
      const networks = await docker.listNetworks({ filters: { label: mineFilter() } });
      await Promise.allSettled(networks.map((n) => docker.getNetwork(n.Id).remove()));
      if (list.length === 0 && networks.length === 0) return;
      if (Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch {
    /* no Docker: nothing of ours can be running */
  }
}

/**
 * When DOCKER_HOST is set, the engine it names, and only that one, is the one to use (as
 * Testcontainers documents it). Testcontainers itself would quietly fall back to the default
 * socket when it does not answer: this says what is wrong instead.
 */
export async function dockerHostProblem(value = process.env.DOCKER_HOST): Promise<string | undefined> {
  if (!value) return undefined;
  const target = dockerHostTarget(value);
  if ('problem' in target) return target.problem;
  const failure = await connectError(target, 3_000);
  return failure ? `DOCKER_HOST=${value}: no Docker engine answers there (${failure}). Start it, or fix or unset DOCKER_HOST.` : undefined;
}

export async function dockerAvailable(): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  const hostProblem = await dockerHostProblem();
  if (hostProblem) return { ok: false, reason: hostProblem };
  try {
    const client = await getContainerRuntimeClient();
    return { ok: true, version: String(client.info.containerRuntime.serverVersion) };
  } catch (e) {
    return { ok: false, reason: (e as Error).message.split('\n')[0]! };
  }
}

/** Where the engine keeps images and volumes (`lab doctor` checks its free space), when it says. */
export async function dockerRootDir(): Promise<string | undefined> {
  try {
    const client = await getContainerRuntimeClient();
    return ((await client.container.dockerode.info()) as { DockerRootDir?: string }).DockerRootDir;
  } catch {
    return undefined;
  }
}

export async function imagePresent(image: string): Promise<boolean> {
  const client = await getContainerRuntimeClient();
  return client.image.exists(ImageName.fromString(image));
}

const NO_DOCKER = 'No Docker daemon is reachable. Start Docker (Docker Desktop, or `sudo dockerd`) and run `lab doctor`.';

/** Set by checkDocker: the Ryuk image Testcontainers will start first, when it is not here (so it must be pulled). */
let ryukToPull: string | undefined;

function classify(e: unknown, image: string): Error {
  const msg = (e as Error)?.message ?? String(e);
  if (/container runtime strategy|ECONNREFUSED.*docker\.sock|docker\.sock/i.test(msg)) return new EnvironmentError(NO_DOCKER);
  const pullFailed = /pull|manifest|not found|No such image|getaddrinfo|EAI_AGAIN|registry|no such host/i.test(msg);
  // Testcontainers pulls Ryuk before the lab's own image, and its error names neither.
  if (pullFailed && ryukToPull) return new EnvironmentError(ryukMissing(ryukToPull));
  if (pullFailed)
    return new EnvironmentError(
      `Image ${image} is not available locally and could not be pulled. Pull it when online, ` +
        `or build stand-ins with \`bash docker/build-images.sh\` and set LAB_POSTGRES_IMAGE / LAB_REDIS_IMAGE.`,
    );
  return e instanceof Error ? e : new Error(msg);
}

async function checkDocker(): Promise<void> {
  const hostProblem = await dockerHostProblem();
  if (hostProblem) throw new EnvironmentError(hostProblem);
  const d = await dockerAvailable();
  if (!d.ok) throw new EnvironmentError(NO_DOCKER);
  const ryuk = ryukImage();
  ryukToPull = ryuk && !(await imagePresent(ryuk)) ? ryuk : undefined;
}

export interface StartedServices {
  endpoints: Endpoints;
  stop(): Promise<void>;
}

const labels = ownerLabels;

export async function startPostgres(): Promise<StartedPostgreSqlContainer> {
  try {
    const c = await tracked('Postgres', () =>
      postgresContainer({ image: IMAGES.postgres, args: POSTGRES_ARGS, labels: labels(), shmBytes: POSTGRES_SHM_BYTES }).start(),
    );
    running.add(c);
    return c;
  } catch (e) {
    throw classify(e, IMAGES.postgres);
  }
}

export async function startRedis(): Promise<StartedRedisContainer> {
  try {
    const c = await tracked('Redis', () =>
      onLoopback(
        new RedisContainer(IMAGES.redis)
          .withCommand(['redis-server', '--databases', String(REDIS_DATABASES), '--save', '', '--appendonly', 'no'])
          .withLabels(labels())
          .withStartupTimeout(60_000),
      ).start(),
    );
    running.add(c);
    return c;
  } catch (e) {
    throw classify(e, IMAGES.redis);
  }
}

/**
 * A Postgres whose data lives in a named Docker volume (made if missing), so that it survives the
 * container: the workshop server's (workshop/server.ts). The container is the kit's like any other
 * (owner labels, 127.0.0.1 only, stopped at exit); the volume is never removed by the kit. Durable
 * settings (fsync on), unlike the labs' throwaway servers.
 */
const VOLUME_PASSWORD_LABEL = 'dev.backend-labs.password';

export async function startKeptPostgres(volume: string): Promise<{ url: string; stop(): Promise<void> }> {
  installCleanupHandlers();
  await checkDocker();
  await sweepOrphans();
  const client = await getContainerRuntimeClient();
  const volumes = await client.container.dockerode.listVolumes({ filters: { name: [volume] } });
  // The superuser's password is made with the data, once, and kept beside it as a label of the
  // volume (readable by whoever can run Docker here, who could read the data anyway). A volume
  // from before passwords were random was made with lab/lab.
  let password = volumes.Volumes?.find((v) => v.Name === volume)?.Labels?.[VOLUME_PASSWORD_LABEL];
  if (!volumes.Volumes?.some((v) => v.Name === volume)) {
    password = randomBytes(18).toString('base64url');
    await client.container.dockerode.createVolume({
      Name: volume,
      Labels: { 'dev.backend-labs.volume': 'kept', [VOLUME_PASSWORD_LABEL]: password },
    });
  }
  try {
    const c = await tracked('Postgres', () =>
      postgresContainer({
        image: IMAGES.postgres,
        args: [],
        labels: labels(),
        shmBytes: POSTGRES_SHM_BYTES,
        database: 'workshop',
        password: password ?? 'lab',
        volume,
      }).start(),
    );
    running.add(c);
    const { host, port } = await endpointOf(c, PG_PORT);
    return {
      url: pgUrl({ host, port, user: c.getUsername(), password: c.getPassword(), database: 'workshop' }),
      // A clean shutdown (a checkpoint) rather than the 1 s the throwaway servers get; WAL covers a kill anyway.
      stop: async () => {
        running.delete(c);
        await c.stop({ timeout: 10_000 });
      },
    };
  } catch (e) {
    throw classify(e, IMAGES.postgres);
  }
}

/** A primary and a streaming replica of it, on their own network (see replica.ts). */
export async function startReplication(farBehind: readonly FarBehindSpec[] = []): Promise<StartedReplicaPair> {
  try {
    const pair = await tracked('the replica pair', () =>
      startReplicaPair({ image: IMAGES.postgres, args: POSTGRES_ARGS, labels: labels(), shmBytes: POSTGRES_SHM_BYTES, farBehind }),
    );
    running.add(pair);
    return pair;
  } catch (e) {
    // Judge by the first line only: the rest is the servers' own output, which may say anything.
    const c = classify(new Error(String((e as Error)?.message ?? e).split('\n')[0]), IMAGES.postgres);
    throw c instanceof EnvironmentError ? c : e;
  }
}

export interface StartOptions {
  /**
   * The run also has labs that use Postgres without a replica (verify, or grade of several labs).
   * They get a plain server of their own, so that the replica does not replay their writes (a
   * standby replaying every other lab's test databases kept a core a quarter busy).
   */
  alsoPlainPostgres?: boolean;
  /** Databases for a far-behind standby of the replica's primary (replica.ts); none: no such standby. */
  farBehind?: readonly FarBehindSpec[];
}

/** One started service: the endpoints it fills, and how to stop it. */
interface Part {
  endpoints: Endpoints;
  stop(): Promise<void>;
}
type Plan = { want: ReadonlySet<ServiceName>; opts: StartOptions };

const stopping = (c: Stoppable) => async () => {
  running.delete(c);
  await c.stop({ timeout: 1_000 });
};

/** How each service registered in services.ts starts; undefined: the plan needs none of its own. */
const STARTERS: { [K in ServiceName]: (plan: Plan) => Promise<Part | undefined> } = {
  // With a replica, the pair's primary is the Postgres: two servers, not three, unless the run also
  // has labs without a replica.
  postgres: async ({ want, opts }) => {
    if (want.has('replica') && !opts.alsoPlainPostgres) return undefined;
    const pg = await startPostgres();
    const endpoint = { ...(await endpointOf(pg, PG_PORT)), user: pg.getUsername(), password: pg.getPassword(), database: pg.getDatabase() };
    return { endpoints: { postgres: endpoint }, stop: stopping(pg) };
  },
  redis: async () => {
    const redis = await startRedis();
    return { endpoints: { redis: await endpointOf(redis, REDIS_PORT) }, stop: stopping(redis) };
  },
  replica: async ({ opts }) => {
    const pair = await startReplication(opts.farBehind);
    return {
      endpoints: {
        ...(opts.alsoPlainPostgres ? { replicaPrimary: pair.primaryEndpoint } : { postgres: pair.primaryEndpoint }),
        replica: pair.replicaEndpoint,
        ...(pair.farBehindEndpoint ? { farBehind: pair.farBehindEndpoint } : {}),
      },
      stop: stopping(pair),
    };
  },
};

/** Starts the servers these services need (services.ts), in parallel; on a failure, stops those that started. */
export async function startServices(needs: readonly ServiceName[], opts: StartOptions = {}): Promise<StartedServices> {
  installCleanupHandlers();
  await checkDocker();
  await sweepOrphans();
  const want = new Set(withRequired(needs));
  const results = await Promise.allSettled([...want].map((name) => STARTERS[name]({ want, opts })));
  const parts = results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
  const started: StartedServices = {
    endpoints: Object.assign({}, ...parts.map((p) => p.endpoints)) as Endpoints,
    stop: async () => {
      await Promise.allSettled(parts.map((p) => p.stop()));
    },
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await started.stop();
    throw failed.reason;
  }
  return started;
}

/**
 * Removes networks a harness process created and could not remove because it died (Ryuk may be
 * disabled). Their containers are gone by now: startServices() sweeps those first.
 */
export async function sweepOrphanNetworks(): Promise<void> {
  try {
    const client = await getContainerRuntimeClient();
    const dockerode = client.container.dockerode;
    const list = await dockerode.listNetworks({ filters: { label: thisHostFilter() } });
    for (const info of list)
      if (isOrphan(info.Labels))
        await dockerode
          .getNetwork(info.Id)
          .remove()
          .catch(() => undefined);
  } catch {
    /* best effort */
  }
}

/** Removes containers a harness process on this host made and left behind when it died (owner.ts), then its networks. */
export async function sweepOrphans(): Promise<number> {
  let removed = 0;
  try {
    const client = await getContainerRuntimeClient();
    const list = await client.container.dockerode.listContainers({ all: true, filters: { label: thisHostFilter() } });
    for (const info of list) {
      if (isOrphan(info.Labels)) {
        await client.container.dockerode
          .getContainer(info.Id)
          .remove({ force: true })
          .catch(() => undefined);
        removed++;
      }
    }
  } catch {
    /* best effort */
  }
  await sweepOrphanNetworks();
  return removed;
}
