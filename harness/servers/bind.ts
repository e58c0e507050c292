/**
 * Where the kit's containers listen, and how this machine reaches them.
 *
 * Every port a container publishes is bound to 127.0.0.1, never 0.0.0.0: the servers log in as
 * a login the harness chose, and on a workshop's LAN anyone could otherwise try every attendee's Postgres.
 *
 * The harness then connects to a container at its own address on its Docker network when this
 * machine can route there (Linux: no port proxy, no NAT), and to the loopback port Docker publishes
 * otherwise (Docker Desktop). Through the loopback port every byte goes through docker-proxy, which
 * measured about 0.4 s of CPU per 3,000 queries, a fifth more than the server itself spent.
 */
import { createConnection } from 'node:net';

export const BIND_IP = '127.0.0.1';

interface WithPortBindings {
  hostConfig: { PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[]> };
}

/**
 * Publishes a container's exposed ports on the loopback interface only. Testcontainers has no
 * option for the host IP, so this sets it in the HostConfig it will create the container with:
 * call it after the last withExposedPorts().
 */
export function onLoopback<T>(container: T): T {
  const hc = (container as unknown as WithPortBindings).hostConfig;
  for (const bindings of Object.values(hc.PortBindings ?? {})) for (const b of bindings) b.HostIp = BIND_IP;
  return container;
}

/** A TCP address, or a Unix socket (or Windows named pipe) path. */
export type Reachable = { host: string; port: number } | { path: string };

/** Connects and hangs up: undefined when something accepted, else why not (an errno code, or a time-out). */
export function connectError(target: Reachable, timeoutMs: number): Promise<string | undefined> {
  return new Promise((done) => {
    const s = createConnection(target);
    const timer = setTimeout(() => (s.destroy(), done(`no answer in ${timeoutMs / 1000} s`)), timeoutMs);
    s.once('connect', () => (clearTimeout(timer), s.destroy(), done(undefined)));
    s.once('error', (e: NodeJS.ErrnoException) => (clearTimeout(timer), done(e.code ?? e.message)));
  });
}

const connects = async (host: string, port: number, timeoutMs: number) => (await connectError({ host, port }, timeoutMs)) === undefined;

/** Where a DOCKER_HOST value points, or one line on why the kit cannot use it. */
export function dockerHostTarget(value: string): Reachable | { problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: `DOCKER_HOST=${value} is not a URL (unix:///var/run/docker.sock, tcp://host:2375, …): fix or unset it` };
  }
  if (url.protocol === 'unix:' || url.protocol === 'npipe:') return { path: url.pathname };
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:')
    return { host: url.hostname, port: Number(url.port || 2375) };
  return { problem: `DOCKER_HOST=${value}: the kit reaches Docker through unix://, npipe:// or tcp:// only` };
}

export interface InspectedNetworks {
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

/** The container's own addresses, on every network it is attached to. */
export function containerIps(info: InspectedNetworks): string[] {
  return Object.values(info.NetworkSettings?.Networks ?? {})
    .map((n) => n.IPAddress)
    .filter((ip): ip is string => !!ip);
}

/** Where this machine reaches a container's port (see above). The port must already be listening. */
export async function reachable(
  info: InspectedNetworks,
  containerPort: number,
  publishedPort: number,
): Promise<{ host: string; port: number }> {
  for (const ip of containerIps(info)) if (await connects(ip, containerPort, 500)) return { host: ip, port: containerPort };
  return { host: BIND_IP, port: publishedPort };
}

/** Where this machine reaches a started container's port. */
export async function endpointOf(container: { getId(): string; getMappedPort(port: number): number }, containerPort: number) {
  const { getContainerRuntimeClient } = await import('testcontainers');
  const client = await getContainerRuntimeClient();
  const info = (await client.container.dockerode.getContainer(container.getId()).inspect()) as InspectedNetworks;
  return reachable(info, containerPort, container.getMappedPort(containerPort));
}
