/**
 * The servers the harness starts, as Docker sees them. Real containers, started the way every run
 * starts them (startServices).
 */
import { getContainerRuntimeClient } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServices, stopAll, type StartedServices } from '../containers.js';
import { OWNER_LABEL } from '../owner.js';

let services: StartedServices;
let inspected: { image: string; healthcheck: unknown }[];

beforeAll(async () => {
  services = await startServices(['postgres', 'redis', 'replica']);
  const client = await getContainerRuntimeClient();
  const list = await client.container.dockerode.listContainers({ filters: { label: [`${OWNER_LABEL}=${process.pid}`] } });
  inspected = await Promise.all(
    list.map(async (c) => {
      const info = await client.container.dockerode.getContainer(c.Id).inspect();
      return { image: info.Config.Image, healthcheck: info.Config.Healthcheck ?? null };
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
    expect(postgres.length, `Postgres containers of this process: ${JSON.stringify(inspected)}`).toBe(2);
    for (const c of postgres) expect(c.healthcheck, `${c.image}: ${JSON.stringify(c.healthcheck)}`).toEqual({ Test: ['NONE'] });
  });

  test('when the servers are up then the harness reaches each of them', async () => {
    const pg = (await import('pg')).default;
    for (const ep of [services.endpoints.postgres!, services.endpoints.replica!]) {
      const c = new pg.Client({ host: ep.host, port: ep.port, user: ep.user, password: ep.password, database: ep.database });
      await c.connect();
      expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      await c.end();
    }
  });
});
