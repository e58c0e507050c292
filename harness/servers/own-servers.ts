/**
 * The harness touches only servers it created. LAB_SERVICES hands a run servers that another kit
 * process started (the bench does, to time a warm run); before anything connects to them, every
 * endpoint must be a port that a container of this kit, made on this host, publishes (owner.ts).
 * A hand-made LAB_SERVICES pointing at somebody's own Redis or Postgres is refused: a test file
 * runs FLUSHDB and DROP DATABASE on the servers it is given.
 *
 * It asks the Docker engine directly over its socket (a few ms), not through Testcontainers, which
 * costs a warm run most of a second of CPU to load; only when no socket is found does it fall back
 * to Testcontainers' own discovery.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { homedir, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { containerIps, dockerHostTarget, type InspectedNetworks } from './bind.js';
import type { Endpoints } from '../endpoints.js';
import { LabError } from '../errors.js';
import { thisHostFilter } from './owner.js';

interface ListedContainer extends InspectedNetworks {
  Ports?: { PrivatePort?: number; PublicPort?: number }[];
  Labels?: Record<string, string>;
}

function socketTarget(): { socketPath: string } | { host: string; port: number } | undefined {
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost) {
    const t = dockerHostTarget(dockerHost);
    if ('problem' in t) throw new Error(t.problem);
    return 'path' in t ? { socketPath: t.path } : t;
  }
  const found = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock')].find((p) => existsSync(p));
  return found ? { socketPath: found } : undefined;
}

async function kitContainers(): Promise<ListedContainer[]> {
  const filters = JSON.stringify({ label: thisHostFilter() });
  const target = socketTarget();
  if (!target) {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await getContainerRuntimeClient();
    return (await client.container.dockerode.listContainers({ filters: { label: thisHostFilter() } })) as ListedContainer[];
  }
  return new Promise((resolve, reject) => {
    const req = request(
      { ...target, path: `/containers/json?filters=${encodeURIComponent(filters)}`, method: 'GET', timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`the Docker engine answered ${res.statusCode}: ${body.slice(0, 200)}`));
          try {
            resolve(JSON.parse(body) as ListedContainer[]);
          } catch (e) {
            reject(e as Error);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('the Docker engine did not answer in 5 s')));
    req.on('error', reject);
    req.end();
  });
}

/** Addresses that reach this machine (a server elsewhere is never one the kit started here). */
function localAddresses(): Set<string> {
  const all = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  return new Set(['localhost', '127.0.0.1', '::1', ...all]);
}

/** Throws a one-line LabError unless every endpoint is a port a container of this kit publishes on this machine. */
export async function assertOwnServers(ep: Endpoints, source = 'LAB_SERVICES'): Promise<void> {
  const named = Object.entries(ep).filter(([, e]) => e && typeof e === 'object' && 'port' in e) as [
    string,
    { host: string; port: number },
  ][];
  if (!named.length) return;
  let containers: ListedContainer[];
  try {
    containers = await kitContainers();
  } catch (e) {
    throw new LabError(`${source}: cannot ask the Docker engine which servers this kit started (${(e as Error).message}): unset ${source}`);
  }
  // A kit container is reached at a published port on this machine, or at its own address (bind.ts).
  const published = new Set(containers.flatMap((c) => (c.Ports ?? []).map((p) => p.PublicPort)).filter((p): p is number => !!p));
  const direct = new Set(containers.flatMap((c) => containerIps(c).flatMap((ip) => (c.Ports ?? []).map((p) => `${ip}:${p.PrivatePort}`))));
  const local = localAddresses();
  for (const [name, e] of named)
    if (!direct.has(`${e.host}:${e.port}`) && !(local.has(e.host) && published.has(Number(e.port))))
      throw new LabError(
        `${source} names ${name} at ${e.host}:${e.port}, which is not a server this kit started on this machine: ` +
          `the kit only touches servers it created. Unset ${source} to let it start its own.`,
      );
}
