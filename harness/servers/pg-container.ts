/**
 * The one way the harness builds a Postgres container (the lab's server, and both servers of a
 * replica pair), and how it knows the server is ready.
 *
 * No Docker health check, ever. @testcontainers/postgresql's default runs `pg_isready` in the
 * container through `docker exec` every 250 ms with a 1 s time-out. On a busy machine a check
 * times out, Docker kills the exec'd shell, and its pg_isready child is re-parented to PID 1: the
 * postmaster itself. When that orphan then dies (SIGPIPE, writing to the closed exec pipe), the
 * postmaster reaps an unknown child that was "terminated by signal 13" and treats it as a crashed
 * backend: it ends every session and restarts in recovery mode. Every test running at that moment
 * fails with "Connection terminated unexpectedly" or ECONNRESET (seen in CI; reported upstream as
 * docker-library/postgres#1349). The checks also cost CPU for the whole run.
 *
 * Instead the harness waits from the outside: the server is ready once a TCP connection with the
 * container's credentials answers `SELECT 1`. The official image (and the kit's stand-in) runs its
 * init scripts on a socket-only server, so only the final server ever answers on TCP.
 */
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import type { BoundPorts, WaitStrategy } from 'testcontainers';
import { onLoopback, reachable } from './bind.js';

/** The module's health-check type allows only CMD and CMD-SHELL; Docker's API also takes ["NONE"]. */
type HealthCheck = Parameters<PostgreSqlContainer['withHealthCheck']>[0];
import pg from 'pg';
import { randomBytes } from 'node:crypto';

export const PG_PORT = 5432;

/** Ready when a TCP connection from this host logs in and answers SELECT 1. */
export class PgAcceptsConnections implements WaitStrategy {
  private timeoutMs = 60_000;
  private timeoutSet = false;

  constructor(private readonly login: { user: string; password: string; database: string }) {}

  async waitUntilReady(container: Parameters<WaitStrategy['waitUntilReady']>[0], boundPorts: BoundPorts): Promise<void> {
    const end = Date.now() + this.timeoutMs;
    let last = '';
    for (;;) {
      // Where the harness will connect (bind.ts): the container's own address, or the loopback port.
      const { host, port } = await reachable(await container.inspect(), PG_PORT, boundPorts.getBinding(PG_PORT));
      const c = new pg.Client({ host, port, ...this.login, connectionTimeoutMillis: 2_000 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.query('SELECT 1');
        return;
      } catch (e) {
        last = (e as Error).message;
      } finally {
        await c.end().catch(() => undefined);
      }
      if (Date.now() > end) {
        const state = await container.inspect().then(
          (i) => i.State?.Status,
          () => 'gone',
        );
        throw new Error(
          `Postgres in container ${container.id.slice(0, 12)} did not accept connections within ${this.timeoutMs / 1000} s ` +
            `(container ${state}; last error: ${last})`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }
  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}

export interface PgContainerOptions {
  image: string;
  /** `-c key=value` server options (POSTGRES_ARGS). */
  args: readonly string[];
  labels: Record<string, string>;
  shmBytes: number;
  user?: string;
  password?: string;
  database?: string;
  startupTimeoutMs?: number;
  /** A named Docker volume for the data directory, which outlives the container; default: tmpfs, gone with it. */
  volume?: string;
}

/**
 * The superuser's password on every server this process starts: random, never the well-known
 * lab/lab. The harness keeps the superuser to itself; a service logs in as its database's own role
 * (databases.ts), and a submission that guesses the superuser's login on the server it was given
 * (to reset the statistics the tests read, say) finds it does not work. A server whose data outlives
 * it (the workshop's, on a volume) is given the password its data was made with.
 */
export const ADMIN_PASSWORD = randomBytes(18).toString('base64url');

/** A throwaway Postgres: data on tmpfs (or `volume`), the harness's labels, its port on 127.0.0.1 only (bind.ts), no health check (see above). */
export function postgresContainer(o: PgContainerOptions): PostgreSqlContainer {
  const login = { user: o.user ?? 'lab', password: o.password ?? ADMIN_PASSWORD, database: o.database ?? 'lab_admin' };
  const data = '/var/lib/postgresql/data';
  const container = new PostgreSqlContainer(o.image)
    .withUsername(login.user)
    .withPassword(login.password)
    .withDatabase(login.database)
    .withCommand(['postgres', ...o.args])
    .withLabels(o.labels);
  return onLoopback(
    (o.volume ? container.withBindMounts([{ source: o.volume, target: data }]) : container.withTmpFs({ [data]: 'rw' }))
      .withSharedMemorySize(o.shmBytes)
      // Docker's "NONE" disables any health check, including one baked into the image; the module
      // adds its own only when none is set.
      .withHealthCheck({ test: ['NONE'] } as unknown as HealthCheck)
      .withWaitStrategy(new PgAcceptsConnections(login))
      .withStartupTimeout(o.startupTimeoutMs ?? 60_000),
  );
}
