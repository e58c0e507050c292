/**
 * `lab workshop serve`, as an API: the workshop app on a Postgres (its own, in a kept Docker
 * volume, or one named by URL), listening where attendees can reach it.
 */
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import { LabError } from '../errors.js';
import { loadLabs } from '../lab-schema.js';
import { createWorkshopApp } from './app.js';
import type { BoardLab } from './board.js';
import type { Limits } from './rate-limit.js';
import { WorkshopStore } from './store.js';

export const DEFAULT_VOLUME = 'backend-labs-workshop';
export const DEFAULT_PORT = 4000;

export interface WorkshopServerOptions {
  /** An existing Postgres; without one, the server starts its own on `volume`. */
  databaseUrl?: string;
  volume?: string;
  /** Where to listen: 0.0.0.0 (default) for the room, 127.0.0.1 for this machine only. */
  host?: string;
  port?: number;
  limits?: Limits;
  labs?: BoardLab[];
}

export interface WorkshopServer {
  /** The URL attendees join (this machine's LAN address when listening on every interface). */
  url: string;
  port: number;
  adminToken: string;
  adminUrl: string;
  databaseUrl: string;
  /** Stops listening, ends live connections, and stops its own Postgres (the data stays in the volume). */
  close(): Promise<void>;
}

/** The address the room reaches this machine at: the first non-internal IPv4, else loopback. */
export function lanAddress(): string {
  for (const addrs of Object.values(networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

export async function startWorkshopServer(opts: WorkshopServerOptions = {}): Promise<WorkshopServer> {
  let databaseUrl = opts.databaseUrl;
  let stopPostgres: (() => Promise<void>) | undefined;
  if (!databaseUrl) {
    const { startKeptPostgres } = await import('../servers/containers.js');
    const pg = await startKeptPostgres(opts.volume ?? DEFAULT_VOLUME);
    databaseUrl = pg.url;
    stopPostgres = pg.stop;
  }
  let store: WorkshopStore | undefined;
  try {
    store = await WorkshopStore.open(databaseUrl).catch((e: Error) => {
      const where = databaseUrl!.replace(/\/\/[^@/]*@/, '//');
      throw new LabError(`cannot use the workshop database at ${where}: ${e.message.split('\n')[0]}`);
    });
    const labs = opts.labs ?? loadLabs().map((l) => ({ slug: l.slug, title: l.title, order: l.order }));
    const w = await createWorkshopApp({ store, labs, limits: opts.limits });
    const server: Server = createServer(w.app);
    server.keepAliveTimeout = 65_000;
    const host = opts.host ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? DEFAULT_PORT, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const shown = host === '0.0.0.0' || host === '::' ? lanAddress() : host.includes(':') ? `[${host}]` : host;
    const url = `http://${shown}:${port}`;
    const s = store;
    return {
      url,
      port,
      adminToken: w.adminToken,
      adminUrl: `${url}/admin?token=${encodeURIComponent(w.adminToken)}`,
      databaseUrl,
      close: async () => {
        w.close();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        await s.close().catch(() => undefined);
        await stopPostgres?.();
      },
    };
  } catch (e) {
    await store?.close().catch(() => undefined);
    await stopPostgres?.().catch(() => undefined);
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new LabError(`port ${opts.port ?? DEFAULT_PORT} is in use on ${opts.host ?? '0.0.0.0'}: pick another with --port`);
    if ((e as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL')
      throw new LabError(`--host ${opts.host}: this machine has no such address to listen on`);
    throw e;
  }
}
