/**
 * A streaming replica for labs that declare the "replica" service: a primary and a hot standby on
 * a Docker network of their own, started through Testcontainers. Labs that declare no replica start
 * none of this.
 *
 *   primary   the same server every lab gets (user lab, database lab_admin, POSTGRES_ARGS), plus an
 *             initdb script that creates a REPLICATION role and its slot, and lets the role in
 *             through pg_hba.conf.
 *   replica   the same image and POSTGRES_ARGS, started at the same time. Its initdb script throws
 *             the fresh cluster away, pg_basebackup's the primary (-X stream -R, with a replication
 *             slot) into "$PGDATA" as soon as the primary accepts connections, and sets
 *             recovery_min_apply_delay, so every commit becomes visible on the replica a fixed time
 *             after the primary committed it: the lag is deterministic, not luck.
 *
 * The scripts rely only on what the official postgres image's entrypoint guarantees (and what the
 * kit's stand-in image re-implements): /docker-entrypoint-initdb.d/*.sh run as the postgres user
 * against a socket-only temporary server, which the entrypoint then stops with `pg_ctl stop` before
 * exec'ing `postgres "$@"`. They use "$PGDATA", never a fixed path.
 *
 *   far-behind  only when a lab in the run declares farBehind (lab.json): a second standby like the
 *             replica, with no apply delay. Once it has replayed the far-behind databases the
 *             harness made on the primary (freezeFarBehind), it is cut off from the primary, and the
 *             primary's WAL is moved past 0/10000000. From then on its replay position has one hex
 *             digit fewer than any position the primary reports: a fix that compares LSNs as text
 *             ('0/F3A2B18' > '0/10000060') takes it for up to date.
 *
 * Tests reach the pair through useLab() (lab.replicaUrl, lab.replicaDb, lab.replicaStats,
 * lab.replication, lab.faultPoint('replica')); ReplicationProbe and waitForDatabase live in replication.ts.
 */
import type { StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { getContainerRuntimeClient, StartedNetwork } from 'testcontainers';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import pg from 'pg';
import type { PgEndpoint } from '../endpoints.js';
import { endpointOf } from './bind.js';
import { ADMIN_PASSWORD, PG_PORT, postgresContainer } from './pg-container.js';
import { lsnToBigInt, REPLICA_APPLY_DELAY_MS, replayedPast } from '../replication.js';

/** The primary's name on the pair's network. */
export const PRIMARY_ALIAS = 'lab-primary';
const REPLICATION_ROLE = 'lab_replication';
const REPLICATION_PASSWORD = 'lab_replication';
const SLOT = 'lab_replica';
const FAR_BEHIND_SLOT = 'lab_far_behind';
/** The far-behind databases' owner, as which services log in to them. */
const FAR_BEHIND_ROLE = 'far_behind_svc';
/** The first WAL position with eight hex digits after the slash. */
const DIGIT_BOUNDARY = '0/10000000';

/** A database the far-behind standby keeps: the lab's pristine schema, then its seed. */
export interface FarBehindSpec {
  database: string;
  schemaSql: string;
  seedSql: string;
}

export interface ReplicaPairOptions {
  image: string;
  /** Server options for both servers (POSTGRES_ARGS). */
  args: readonly string[];
  /** Labels for both containers and the network (the harness's owner label). */
  labels: Record<string, string>;
  /** /dev/shm size for both servers (POSTGRES_SHM_BYTES). */
  shmBytes?: number;
  user?: string;
  password?: string;
  database?: string;
  applyDelayMs?: number;
  /** Databases for a far-behind standby: when there are any, a third server is started and cut off. */
  farBehind?: readonly FarBehindSpec[];
}

export interface StartedReplicaPair {
  primary: StartedPostgreSqlContainer;
  replica: StartedPostgreSqlContainer;
  network: StartedNetwork;
  primaryEndpoint: PgEndpoint;
  replicaEndpoint: PgEndpoint & { primaryAlias: string };
  /** The far-behind standby, when farBehind was asked for, and the replay position it stopped at. */
  farBehindEndpoint?: PgEndpoint & { frozenAt: string; serviceUser: string; servicePassword: string };
  /** Wall time from the first container request until the replica was streaming. */
  startupMs: number;
  /** When each server was ready, in ms from the same start (they start together). */
  timings: { primaryMs: number; replicaMs: number };
  /** Stops the replica, then the primary, then removes the network. Safe to call twice. */
  stop(opts?: { timeout?: number }): Promise<void>;
}

/** Runs on the primary during initdb: a login role allowed to stream WAL, and the replica's slot. */
export function primaryInitScript(slots: readonly string[] = [SLOT]): string {
  return `#!/bin/sh
# backend-labs: let the replica connect for streaming replication.
set -eu
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \\
  -c "CREATE ROLE ${REPLICATION_ROLE} WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD}'" \\
${slots.map((slot) => `  -c "SELECT pg_create_physical_replication_slot('${slot}')"`).join(' \\\n')}
printf '\\nhost replication ${REPLICATION_ROLE} all scram-sha-256\\n' >> "$PGDATA/pg_hba.conf"
`;
}

/**
 * Runs on the replica during initdb, against the entrypoint's temporary server: replaces the fresh
 * cluster with a base backup of the primary and restarts the temporary server as a standby, so that
 * the entrypoint's own `pg_ctl stop` and final `exec postgres` work unchanged.
 */
export function replicaInitScript(args: readonly string[], applyDelayMs: number, slot = SLOT): string {
  for (const a of args)
    if (!/^[A-Za-z0-9_.=,:/-]+$/.test(a)) throw new Error(`server option ${JSON.stringify(a)} cannot be passed through pg_ctl -o safely`);
  // The temporary standby needs the primary's settings: a standby with a lower max_connections
  // than its primary refuses hot standby.
  const serverOptions = ["-c listen_addresses=''", '-p 5432', ...args].join(' ');
  return `#!/bin/sh
# backend-labs: turn this fresh cluster into a streaming replica of ${PRIMARY_ALIAS}.
set -eu
pg_ctl -D "$PGDATA" -m fast -w stop
rm -rf -- "$PGDATA"/*
tries=0
until PGPASSWORD='${REPLICATION_PASSWORD}' pg_basebackup --host=${PRIMARY_ALIAS} --port=5432 \\
    --username=${REPLICATION_ROLE} --pgdata="$PGDATA" --wal-method=stream --write-recovery-conf \\
    --checkpoint=fast --slot=${slot}; do
  tries=$((tries + 1))
  # The primary starts alongside: until it listens, pg_basebackup is refused.
  if [ "$tries" -ge 120 ]; then echo "pg_basebackup from ${PRIMARY_ALIAS} failed $tries times" >&2; exit 1; fi
  rm -rf -- "$PGDATA"/*
  sleep 1
done
chmod 0700 "$PGDATA"
printf "\\nrecovery_min_apply_delay = '${applyDelayMs}ms'\\n" >> "$PGDATA/postgresql.auto.conf"
pg_ctl -D "$PGDATA" -o "${serverOptions.replace(/"/g, '\\"')}" -w -t 120 start
`;
}

type Which = 'primary' | 'replica' | 'far-behind';

function startedNetworkFrom(client: Awaited<ReturnType<typeof getContainerRuntimeClient>>, name: string, network: unknown): StartedNetwork {
  return new StartedNetwork(client, name, network as ConstructorParameters<typeof StartedNetwork>[2]);
}

async function pgEndpointOf(c: StartedPostgreSqlContainer): Promise<PgEndpoint> {
  return { ...(await endpointOf(c, PG_PORT)), user: c.getUsername(), password: c.getPassword(), database: c.getDatabase() };
}

/** Starts a primary and a streaming replica of it. On failure, stops whatever it started. */
export async function startReplicaPair(opts: ReplicaPairOptions): Promise<StartedReplicaPair> {
  const t0 = performance.now();
  const user = opts.user ?? 'lab';
  const password = opts.password ?? ADMIN_PASSWORD;
  const database = opts.database ?? 'lab_admin';
  const applyDelayMs = opts.applyDelayMs ?? REPLICA_APPLY_DELAY_MS;
  // The kit's servers run with synchronous_commit=off, which lets a commit's WAL wait up to
  // wal_writer_delay (200 ms, longer on a busy machine) before it is flushed, and a walsender only
  // ships flushed WAL. On the primary of a pair that would blur the lag: sometimes a commit reached
  // the replica only after its 500 ms apply delay had run out, and the moment when the replica has
  // received a transaction's changes but not yet applied its commit (the one a fix that reads the
  // LSN before COMMIT gets wrong) never came. Flushing at commit costs nothing here (fsync=off).
  const args = [...opts.args, '-c', 'synchronous_commit=on'];
  const script = replicaInitScript(args, applyDelayMs);
  const wantFarBehind = (opts.farBehind?.length ?? 0) > 0;

  const client = await getContainerRuntimeClient();
  const name = `backend-labs-replication-${randomBytes(4).toString('hex')}`;
  const network = startedNetworkFrom(
    client,
    name,
    await client.network.create({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: { 'org.testcontainers': 'true', ...opts.labels },
    }),
  );

  // What each server printed, for the error message if the pair does not come up: Testcontainers
  // removes a container that failed to become ready, and its logs with it.
  const output: Record<Which, string[]> = { primary: [], replica: [], 'far-behind': [] };
  const keep = (which: Which) => (stream: Readable) => {
    let partial = '';
    stream.on('data', (chunk: Buffer | string) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      output[which]!.push(...lines);
      output[which]!.splice(0, Math.max(0, output[which]!.length - 25));
    });
  };
  const base = (which: Which) =>
    postgresContainer({
      image: opts.image,
      args,
      labels: opts.labels,
      shmBytes: opts.shmBytes ?? 64 * 1024 * 1024,
      user,
      password,
      database,
      startupTimeoutMs: 120_000,
    })
      .withLogConsumer(keep(which))
      .withNetwork(network);

  let primary: StartedPostgreSqlContainer | undefined;
  let replica: StartedPostgreSqlContainer | undefined;
  let farBehind: StartedPostgreSqlContainer | undefined;
  let stopped = false;
  const stop = async (o: { timeout?: number } = {}) => {
    if (stopped) return;
    stopped = true;
    const timeout = o.timeout ?? 1_000;
    await Promise.all([replica?.stop({ timeout }).catch(() => undefined), farBehind?.stop({ timeout }).catch(() => undefined)]);
    await primary?.stop({ timeout }).catch(() => undefined);
    await network.stop().catch(() => undefined);
  };
  const ms = () => Math.round(performance.now() - t0);
  const timings = { primaryMs: 0, replicaMs: 0 };
  try {
    // Both at once: the replica's own initdb overlaps the primary's start-up, and its script
    // retries pg_basebackup until the primary accepts connections.
    const standby = (which: Which, initScript: string) =>
      base(which).withCopyContentToContainer([
        { content: initScript, target: '/docker-entrypoint-initdb.d/50-become-replica.sh', mode: 0o755 },
      ]);
    const starting = [
      base('primary')
        .withNetworkAliases(PRIMARY_ALIAS)
        .withCopyContentToContainer([
          {
            content: primaryInitScript(wantFarBehind ? [SLOT, FAR_BEHIND_SLOT] : [SLOT]),
            target: '/docker-entrypoint-initdb.d/50-replication-role.sh',
            mode: 0o755,
          },
        ])
        .start()
        .then((c) => ((timings.primaryMs = ms()), c)),
      standby('replica', script)
        .start()
        .then((c) => ((timings.replicaMs = ms()), c)),
      wantFarBehind ? standby('far-behind', replicaInitScript(args, 0, FAR_BEHIND_SLOT)).start() : Promise.resolve(undefined),
    ] as const;
    // Without a primary the standbys would retry for minutes: remove them, so their start fails now.
    starting[0].catch(() => removeContainersOn(client, name));
    const [p, r, f] = await Promise.allSettled(starting);
    if (p.status === 'fulfilled') primary = p.value;
    if (r.status === 'fulfilled') replica = r.value;
    if (f.status === 'fulfilled') farBehind = f.value;
    if (p.status === 'rejected') throw p.reason;
    if (r.status === 'rejected') throw r.reason;
    if (f.status === 'rejected') throw f.reason;
    if (!primary || !replica) throw new Error('unreachable');
    const replicaEndpoint = { ...(await pgEndpointOf(replica)), primaryAlias: PRIMARY_ALIAS };
    const primaryEndpoint = await pgEndpointOf(primary);
    await assertStreaming(replicaEndpoint);
    let farBehindEndpoint: StartedReplicaPair['farBehindEndpoint'];
    if (farBehind) {
      const ep = await pgEndpointOf(farBehind);
      await assertStreaming(ep);
      const service = { serviceUser: FAR_BEHIND_ROLE, servicePassword: randomBytes(18).toString('base64url') };
      farBehindEndpoint = {
        ...ep,
        ...service,
        frozenAt: await freezeFarBehind(primaryEndpoint, ep, opts.farBehind!, service.servicePassword),
      };
    }
    return {
      primary,
      replica,
      network,
      primaryEndpoint,
      replicaEndpoint,
      ...(farBehindEndpoint ? { farBehindEndpoint } : {}),
      startupMs: Math.round(performance.now() - t0),
      timings,
      stop,
    };
  } catch (e) {
    await stop();
    const err = e instanceof Error ? e : new Error(String(e));
    for (const which of ['primary', 'replica', 'far-behind'] as const)
      if (output[which]!.length) err.message += `\n--- ${which} container output (last lines) ---\n${output[which]!.join('\n')}`;
    throw err;
  }
}

async function removeContainersOn(client: Awaited<ReturnType<typeof getContainerRuntimeClient>>, network: string): Promise<void> {
  try {
    const list = await client.container.dockerode.listContainers({ all: true, filters: { network: [network] } });
    await Promise.allSettled(list.map((info) => client.container.dockerode.getContainer(info.Id).remove({ force: true })));
  } catch {
    /* best effort */
  }
}

/** Fails fast if the standby is up but not streaming from the primary (wrong password, pg_hba, slot…). */
async function assertStreaming(ep: PgEndpoint): Promise<void> {
  const c = new pg.Client({ host: ep.host, port: ep.port, user: ep.user, password: ep.password, database: ep.database });
  await c.connect();
  try {
    const end = Date.now() + 20_000;
    for (;;) {
      const { rows } = await c.query(`SELECT pg_is_in_recovery() AS standby, (SELECT status FROM pg_stat_wal_receiver) AS receiver`);
      if (!rows[0].standby) throw new Error('the replica container came up as a primary: its initdb script did not run pg_basebackup');
      if (rows[0].receiver === 'streaming') return;
      if (Date.now() > end) throw new Error(`the replica is not streaming from the primary (WAL receiver: ${rows[0].receiver ?? 'none'})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function withPg<T>(ep: PgEndpoint, database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({
    host: ep.host,
    port: ep.port,
    user: ep.user,
    password: ep.password,
    database,
    application_name: 'lab-harness',
  });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes the far-behind standby: creates and seeds each database on the primary, waits until the
 * standby has replayed them, cuts it off from the primary (no WAL receiver, no slot), then moves the
 * primary's WAL past 0/10000000. Returns the standby's final replay position, which has seven hex
 * digits after the slash while every position the primary reports from now on has eight.
 */
export async function freezeFarBehind(
  primary: PgEndpoint,
  standby: PgEndpoint,
  specs: readonly FarBehindSpec[],
  servicePassword: string,
): Promise<string> {
  const admin = primary.database;
  // Like a test database (databases.ts): the service logs in as a role of its own that owns the
  // database and its objects, and that no other database lets in.
  await withPg(primary, admin, (c) => c.query(`CREATE ROLE ${FAR_BEHIND_ROLE} LOGIN PASSWORD '${servicePassword}'`));
  for (const spec of specs) {
    if (!/^[a-z_][a-z0-9_]*$/.test(spec.database))
      throw new Error(`far-behind database name ${JSON.stringify(spec.database)} is not a plain identifier`);
    await withPg(primary, admin, async (c) => {
      await c.query(`CREATE DATABASE "${spec.database}" OWNER ${FAR_BEHIND_ROLE}`);
      await c.query(`REVOKE CONNECT, TEMPORARY ON DATABASE "${spec.database}" FROM PUBLIC`);
    });
    await withPg(primary, spec.database, async (c) => {
      await c.query(`SET ROLE ${FAR_BEHIND_ROLE}`);
      await c.query(spec.schemaSql);
      await c.query(spec.seedSql);
    });
  }
  const target = await withPg(primary, admin, async (c) => {
    await c.query('SELECT pg_current_xact_id()'); // a commit, so that the position below ends a record
    return (await c.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn as string;
  });
  if (lsnToBigInt(target) >= lsnToBigInt(DIGIT_BOUNDARY))
    throw new Error(`the primary's WAL is already at ${target}, past ${DIGIT_BOUNDARY}: the far-behind standby needs a fresh primary`);
  return withPg(standby, standby.database, async (c) => {
    const end = Date.now() + 30_000;
    for (;;) {
      const replayed = (await c.query('SELECT pg_last_wal_replay_lsn()::text AS lsn')).rows[0].lsn as string;
      if (replayedPast(replayed, target)) break;
      if (Date.now() > end) throw new Error(`the far-behind standby replayed only up to ${replayed} in 30 s, waiting for ${target}`);
      await sleep(20);
    }
    // Cut off: with no primary_conninfo the startup process starts no WAL receiver, and replays
    // nothing more. The slot goes, so that the primary does not keep WAL for it.
    await c.query(`ALTER SYSTEM SET primary_conninfo = ''`);
    await c.query('SELECT pg_reload_conf()');
    for (const end2 = Date.now() + 20_000; ;) {
      const { rowCount } = await c.query('SELECT 1 FROM pg_stat_wal_receiver');
      if (!rowCount) break;
      if (Date.now() > end2) throw new Error('the far-behind standby kept its WAL receiver after primary_conninfo was cleared');
      await sleep(20);
    }
    await withPg(primary, admin, async (p) => {
      for (const end3 = Date.now() + 20_000; ;) {
        const { rows } = await p.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [FAR_BEHIND_SLOT]);
        if (!rows[0]) break;
        if (!rows[0].active) {
          await p.query('SELECT pg_drop_replication_slot($1)', [FAR_BEHIND_SLOT]);
          break;
        }
        if (Date.now() > end3) throw new Error(`the far-behind standby's slot ${FAR_BEHIND_SLOT} stayed active after it was cut off`);
        await sleep(20);
      }
      // Past the boundary: each switch closes the current segment (16 MB).
      for (let i = 0; ; i++) {
        const at = (await p.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn as string;
        if (lsnToBigInt(at) > lsnToBigInt(DIGIT_BOUNDARY)) break;
        if (i === 64) throw new Error(`the primary's WAL did not pass ${DIGIT_BOUNDARY} after 64 segment switches (at ${at})`);
        await p.query(`SELECT pg_logical_emit_message(false, 'backend-labs', 'far-behind')`);
        await p.query('SELECT pg_switch_wal()');
      }
    });
    const frozenAt = (await c.query('SELECT pg_last_wal_replay_lsn()::text AS lsn')).rows[0].lsn as string;
    if (lsnToBigInt(frozenAt) >= lsnToBigInt(DIGIT_BOUNDARY))
      throw new Error(`the far-behind standby replayed past ${DIGIT_BOUNDARY} (${frozenAt})`);
    return frozenAt;
  });
}
