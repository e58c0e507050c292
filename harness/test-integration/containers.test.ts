/**
 * The servers the harness starts, as Docker sees them. Real containers, started the way every run
 * starts them (startServices).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServices, stopAll, sweepOrphans, type StartedServices } from '../servers/containers.js';
import { createTestDatabase, dropTestDatabase, ensureTemplate } from '../databases.js';
import { IMAGES } from '../servers/images.js';
import { assertOwnServers } from '../servers/own-servers.js';
import { ROOT } from '../paths.js';
import { PgStats } from '../testing/pg-stats.js';
import { pgUrl } from '../endpoints.js';
import { HOST_ID, HOST_LABEL, mineFilter, OWNER_LABEL } from '../servers/owner.js';

let services: StartedServices;

/** Every container the kit has on this host, whichever process owns it. */
async function ownedContainers(): Promise<string[]> {
  const client = await getContainerRuntimeClient();
  const list = await client.container.dockerode.listContainers({ all: true, filters: { label: [`${HOST_LABEL}=${HOST_ID}`] } });
  return list.map((c) => c.Id).sort();
}
let inspected: { image: string; healthcheck: unknown; bindings: { HostIp?: string; HostPort?: string }[] }[];

beforeAll(async () => {
  services = await startServices(['postgres', 'redis', 'replica'], {
    farBehind: [
      {
        database: 'far_behind_it',
        schemaSql: 'CREATE TABLE t (id int PRIMARY KEY, v text)',
        seedSql: `INSERT INTO t VALUES (1, 'seeded')`,
      },
    ],
  });
  const client = await getContainerRuntimeClient();
  const list = await client.container.dockerode.listContainers({ filters: { label: mineFilter() } });
  inspected = await Promise.all(
    list.map(async (c) => {
      const info = await client.container.dockerode.getContainer(c.Id).inspect();
      return {
        image: info.Config.Image,
        healthcheck: info.Config.Healthcheck ?? null,
        bindings: Object.values(info.NetworkSettings.Ports ?? {}).flatMap((b) => b ?? []),
      };
    }),
  );
}, 180_000);

afterAll(async () => {
  await services?.stop();
  await stopAll();
});

describe('containers', () => {
  test('when Postgres servers are started then Docker runs no health check in them (an exec that times out leaves an orphan that crash-restarts the postmaster)', () => {
    const postgres = inspected.filter((c) => /postgres/i.test(c.image));
    expect(postgres.length, `Postgres containers of this process: ${JSON.stringify(inspected)}`).toBe(3);
    for (const c of postgres) expect(c.healthcheck, `${c.image}: ${JSON.stringify(c.healthcheck)}`).toEqual({ Test: ['NONE'] });
  });

  test('when servers are started then every port they publish is on 127.0.0.1 only, never on the LAN', () => {
    expect(inspected.length, 'postgres, replica, far-behind standby and redis').toBe(4);
    for (const c of inspected) {
      expect(c.bindings.length, `${c.image} publishes no port`).toBeGreaterThan(0);
      for (const b of c.bindings) expect(b.HostIp, `${c.image} publishes port ${b.HostPort} on ${b.HostIp}`).toBe('127.0.0.1');
    }
  });

  test('when the servers are up then the harness reaches each of them', async () => {
    const pg = (await import('pg')).default;
    for (const ep of [services.endpoints.postgres!, services.endpoints.replica!, services.endpoints.farBehind!]) {
      const c = new pg.Client({ host: ep.host, port: ep.port, user: ep.user, password: ep.password, database: ep.database });
      await c.connect();
      expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      await c.end();
    }
  });

  test('when a far-behind standby is asked for then it keeps the seed, never sees a later write, and is a hex digit behind the primary', async () => {
    const pg = (await import('pg')).default;
    const open = async (ep: { host: string; port: number; user: string; password: string }, database: string) => {
      const c = new pg.Client({ host: ep.host, port: ep.port, user: ep.user, password: ep.password, database });
      await c.connect();
      return c;
    };
    const primary = await open(services.endpoints.postgres!, 'far_behind_it');
    const standby = await open(services.endpoints.farBehind!, 'far_behind_it');
    try {
      await primary.query(`UPDATE t SET v = 'changed' WHERE id = 1`);
      await primary.query(`INSERT INTO t VALUES (2, 'later')`);
      const primaryAt: string = (await primary.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn;
      const frozenAt = services.endpoints.farBehind!.frozenAt;
      expect(primaryAt, 'the primary should be past 0/10000000').toMatch(/^0\/[0-9A-F]{8}$/);
      expect(frozenAt, 'the far-behind standby should be before 0/10000000').toMatch(/^0\/[0-9A-F]{1,7}$/);
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await standby.query('SELECT id, v FROM t ORDER BY id')).rows).toEqual([{ id: 1, v: 'seeded' }]);
      expect((await standby.query('SELECT pg_last_wal_replay_lsn()::text AS lsn')).rows[0].lsn).toBe(frozenAt);
      expect((await standby.query('SELECT count(*)::int AS n FROM pg_stat_wal_receiver')).rows[0].n, 'no WAL receiver').toBe(0);
      const slots = await primary.query('SELECT slot_name FROM pg_replication_slots ORDER BY 1');
      expect(
        slots.rows.map((r) => r.slot_name),
        'only the replica keeps a slot on the primary',
      ).toEqual(['lab_replica']);
    } finally {
      await Promise.allSettled([primary.end(), standby.end()]);
    }
  });

  test('when orphans are swept then only this host’s containers whose owner died go, never another host’s', async () => {
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    const dead = String(4_194_304 + 7);
    const make = (labels: Record<string, string>) => docker.createContainer({ Image: IMAGES.postgres, Cmd: ['true'], Labels: labels });
    const ours = await make({ [OWNER_LABEL]: dead, [HOST_LABEL]: HOST_ID });
    const theirs = await make({ [OWNER_LABEL]: dead, [HOST_LABEL]: 'another-host:pid:[4026531836]' });
    try {
      await sweepOrphans();
      const left = (await docker.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${dead}`] } })).map((c) => c.Id);
      expect(left).toEqual([theirs.id]);
      expect(left).not.toContain(ours.id);
    } finally {
      await Promise.allSettled([ours.remove({ force: true }), theirs.remove({ force: true })]);
    }
  });

  test('when LAB_SERVICES names this kit’s own servers then they are used, and anything else is refused in one line', async () => {
    await expect(assertOwnServers(services.endpoints)).resolves.toBeUndefined();
    // Somebody's own server on this machine: a port no kit container publishes.
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      await expect(assertOwnServers({ redis: { host: '127.0.0.1', port } })).rejects.toThrow(
        `LAB_SERVICES names redis at 127.0.0.1:${port}, which is not a server this kit started on this machine: the kit only touches servers it created. Unset LAB_SERVICES to let it start its own.`,
      );
      // A kit port, but on another machine.
      await expect(assertOwnServers({ postgres: { ...services.endpoints.postgres!, host: '192.0.2.1' } })).rejects.toThrow(
        /at 192\.0\.2\.1:/,
      );
      const r = spawnSync(process.execPath, [join(ROOT, 'harness', 'cli', 'bin.js'), 'test', 'caching', '--solution'], {
        env: {
          ...process.env,
          LAB_SERVICES: JSON.stringify({ postgres: services.endpoints.postgres, redis: { host: '127.0.0.1', port } }),
        },
        encoding: 'utf8',
      });
      expect(r.status, r.stdout).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^lab: LAB_SERVICES names redis at 127\.0\.0\.1:\d+, which is not a server this kit started/),
      ]);
    } finally {
      server.close();
    }
  });

  test('when Testcontainers’ reaper image cannot be had then one line names Ryuk and the fix, and no container is left', async () => {
    const before = await ownedContainers();
    // An image no registry has: the same failure offline and online.
    const r = spawnSync(process.execPath, [join(ROOT, 'harness', 'cli', 'bin.js'), 'test', 'deadlocks', '--solution'], {
      env: { ...process.env, TESTCONTAINERS_RYUK_DISABLED: '', RYUK_CONTAINER_IMAGE: 'backend-labs/no-such-ryuk:0' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      "lab: Testcontainers' resource reaper (Ryuk) cannot start: its image backend-labs/no-such-ryuk:0 is not here and cannot be pulled. Set TESTCONTAINERS_RYUK_DISABLED=true (the kit stops its own containers without it), or pull it when online.",
    ]);
    expect(await ownedContainers()).toEqual(before);
  });

  test('when a service logs in to its test database then it owns it, and cannot reach another test database, the template or the admin database', async () => {
    const pg = (await import('pg')).default;
    const ep = services.endpoints.postgres!;
    const dir = mkdtempSync(join(tmpdir(), 'roles-'));
    writeFileSync(join(dir, 'schema.sql'), 'CREATE TABLE notes (id int PRIMARY KEY, body text)');
    const template = await ensureTemplate(ep, join(dir, 'schema.sql'));
    const [a, b] = [await createTestDatabase(ep, template), await createTestDatabase(ep, template)];
    const login = (database: string) => {
      const c = new pg.Client({ host: ep.host, port: ep.port, user: a.user, password: a.password, database });
      c.on('error', () => undefined);
      return c.connect().then(() => c);
    };
    try {
      const own = await login(a.name);
      await own.query(`INSERT INTO notes VALUES (1, 'mine')`);
      await own.query('ALTER TABLE notes ADD COLUMN at timestamptz'); // its own schema, DDL included
      expect((await own.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0].rolsuper).toBe(false);
      await expect(own.query('CREATE ROLE intruder')).rejects.toThrow(/permission denied/);
      await own.end();
      for (const other of [b.name, template, ep.database, 'postgres'])
        await expect(login(other), `the service's role logging in to ${other}`).rejects.toThrow(/permission denied for database/);
    } finally {
      await dropTestDatabase(ep, a.name);
      await dropTestDatabase(ep, b.name);
    }
    const admin = new pg.Client({ ...ep });
    await admin.connect();
    const left = await admin.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [[a.user, b.user]]);
    await admin.end();
    expect(left.rows, 'the roles go with their databases').toEqual([]);
  });

  test('when a session waits for a lock then watchLocks reports the longest wait from Postgres’s own figures, with the table, mode and blocker', async () => {
    const pg = (await import('pg')).default;
    const ep = services.endpoints.postgres!;
    const dir = mkdtempSync(join(tmpdir(), 'locks-'));
    writeFileSync(join(dir, 'schema.sql'), 'CREATE TABLE items (id int PRIMARY KEY, v int)');
    const db = await createTestDatabase(ep, await ensureTemplate(ep, join(dir, 'schema.sql')));
    const harness = new pg.Pool({ connectionString: pgUrl(ep, db.name), application_name: 'lab-harness' });
    const service = new pg.Client({ connectionString: pgUrl(ep, db.name), application_name: 'svc-under-test' });
    await service.connect();
    try {
      await harness.query('INSERT INTO items VALUES (1, 0)');
      const stats = new PgStats(harness);
      const quiet = stats.watchLocks({ everyMs: 20 });
      await new Promise((r) => setTimeout(r, 200));
      const none = await quiet.stop();
      expect(none).toMatchObject({ longestMs: 0, waits: [] });
      expect(none.samples).toBeGreaterThan(3);

      const holder = await harness.connect();
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE');
      const watch = stats.watchLocks({ everyMs: 20 });
      const waiting = service.query('UPDATE items SET v = v + 1 WHERE id = 1');
      await new Promise((r) => setTimeout(r, 700));
      await holder.query('COMMIT');
      holder.release();
      await waiting;
      const rep = await watch.stop();
      // It waited about 700 ms; a sample sees it at most one interval (plus a busy machine's lag) before the end.
      expect(rep.longestMs).toBeGreaterThanOrEqual(500);
      expect(rep.longestMs).toBeLessThan(5_000);
      expect(rep.waits).toHaveLength(1);
      expect(rep.longest).toMatchObject({
        applicationName: 'svc-under-test',
        relation: 'items',
        locktype: 'relation',
        mode: 'RowExclusiveLock',
      });
      expect(rep.longest!.query).toMatch(/UPDATE items/);
      expect(rep.longest!.blockedBy).toHaveLength(1);
      // The harness's own sessions are never counted, unless asked for by name.
      const own = stats.watchLocks({ applicationName: 'svc-under-test' });
      expect((await own.stop()).waits).toEqual([]);
    } finally {
      await service.end();
      await harness.end();
      await dropTestDatabase(ep, db.name);
    }
  });
});
