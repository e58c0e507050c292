/**
 * The grading sandbox: where a submission's service instances run when `lab grade` grades code it
 * does not trust. One per submission and lab:
 *
 *   - a Docker network of its own, internal (no route out of it), to which the submission's own
 *     servers are attached;
 *   - one container from the Node image (images.ts), on that network only, read-only, holding
 *     nothing of the kit but what a service needs, each mounted read-only at its own path: the
 *     compiled tree under test, the vendor bundle of the libraries a service may use, the compiled
 *     service-host script and the agent (testing/sandbox-agent.ts);
 *   - a PID, memory and CPU limit, no capabilities but switching to the services' user, and no
 *     environment of the grader's.
 *
 * The agent is a host pool: test workers, outside, ask it for instances over a Unix socket in a
 * folder shared with the container, and reach them at the container's address. What the harness
 * listens on for the services (fault points, stubs) listens on the network's gateway and takes
 * connections from this container only. Removing the container ends every process the submission
 * started. Test files, solutions, reports and keys never enter it.
 *
 * It needs a Docker engine whose containers this machine reaches at their own addresses (Linux).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import type { Endpoints } from '../endpoints.js';
import { EnvironmentError } from '../errors.js';
import { READY_FILE, SHARED_DIR, type AgentReady } from '../sandbox-protocol.js';
import { IMAGES } from './images.js';
import { mineFilter, ownerLabels } from './owner.js';
import { tracked } from './containers.js';

export const SANDBOX_LABEL = 'dev.backend-labs.sandbox';

/** Limits of one sandbox: a submission's every service process together. */
export const SANDBOX_LIMITS = {
  /** Processes and threads (a Node process has about a dozen threads). */
  pids: 512,
  memoryBytes: 2 * 1024 ** 3,
  /** In cores: a busy loop takes at most this much from the other submissions. */
  cpus: 1,
  /** The container's only writable place, /tmp. */
  tmpBytes: 64 * 1024 ** 2,
};

const AGENT_READY_TIMEOUT_MS = 60_000;

export interface SandboxSpec {
  /** The compiled tree under test (build.ts buildTree). */
  build: string;
  /** The vendor bundle's folder (build.ts vendorBundle), when the tree uses one. */
  vendorDir?: string;
  /** The vendor bundle file itself, for hosts to load while idle. */
  vendorBundle?: string;
  /** The compiled service-host script and the bundled agent. */
  hostScript: string;
  agentScript: string;
  /** Libraries hosts load while idle when there is no vendor bundle. */
  preload: readonly string[];
  /** The submission's own servers, as this machine reaches them. */
  endpoints: Endpoints;
  /** Idle hosts the agent keeps ahead. */
  poolSize?: number;
  /**
   * The servers are this submission's alone (grading): they leave Docker's default network once
   * attached, so that nothing run inside them (a superuser's COPY … TO PROGRAM from the schema,
   * say) reaches any other submission's servers there.
   */
  ownServers?: boolean;
}

export interface OpenSandbox {
  /** The agent's host pool socket (StartRequest.pool). */
  pool: string;
  /** Where services reach what the harness listens on for them, and who may connect to it. */
  side: { host: string; allow: string[] };
  /** The submission's servers at their addresses on the sandbox network (reachable from here too). */
  endpoints: Endpoints;
  /** The container's id, and its address on the sandbox network (where services listen). */
  id: string;
  address: string;
  close(): Promise<void>;
}

type Docker = Awaited<ReturnType<typeof getContainerRuntimeClient>>['container']['dockerode'];

const NOT_ROUTABLE =
  'the grading sandbox needs a Docker engine whose containers this machine reaches at their own addresses (Docker on Linux); ' +
  'here the servers are reached through published ports only. Grade trusted code with --no-sandbox.';

async function ensureImage(client: Awaited<ReturnType<typeof getContainerRuntimeClient>>): Promise<void> {
  const image = ImageName.fromString(IMAGES.node);
  if (await client.image.exists(image)) return;
  try {
    await client.image.pull(image);
  } catch {
    throw new EnvironmentError(
      `Image ${IMAGES.node} (the grading sandbox's Node) is not here and could not be pulled. Pull it when online, ` +
        'or build stand-ins with `bash docker/build-images.sh` and set LAB_NODE_IMAGE.',
    );
  }
}

interface Listed {
  Id: string;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

/**
 * Attaches the containers behind `endpoints` (containers this process started) to the network,
 * and returns the endpoints at their addresses on it. `undo` collects the detaching.
 */
async function attach(
  docker: Docker,
  endpoints: Endpoints,
  network: string,
  undo: (() => Promise<unknown>)[],
  isolate: boolean,
): Promise<Endpoints> {
  const mine = (await docker.listContainers({ filters: { label: mineFilter() } })) as Listed[];
  const byIp = new Map<string, string>();
  for (const c of mine) for (const n of Object.values(c.NetworkSettings?.Networks ?? {})) if (n.IPAddress) byIp.set(n.IPAddress, c.Id);
  const attached = new Map<string, string>();
  const inner: Endpoints = {};
  for (const [key, ep] of Object.entries(endpoints) as [keyof Endpoints, { host: string; port: number }][]) {
    if (!ep) continue;
    const id = byIp.get(ep.host);
    if (!id) {
      if (ep.host === '127.0.0.1' || ep.host === 'localhost') throw new EnvironmentError(NOT_ROUTABLE);
      throw new Error(`the sandbox cannot attach ${key} at ${ep.host}:${ep.port}: not a container this run started`);
    }
    if (!attached.has(id)) {
      await docker.getNetwork(network).connect({ Container: id });
      undo.push(() => docker.getNetwork(network).disconnect({ Container: id, Force: true }));
      const info = (await docker.getContainer(id).inspect()) as Listed;
      const ip = info.NetworkSettings?.Networks?.[network]?.IPAddress;
      if (!ip) throw new Error(`the sandbox network gave ${key} no address`);
      if (isolate && info.NetworkSettings?.Networks?.bridge) await docker.getNetwork('bridge').disconnect({ Container: id, Force: true });
      attached.set(id, ip);
    }
    Object.assign(inner, { [key]: { ...ep, host: attached.get(id)! } });
  }
  return inner;
}

async function waitForAgent(docker: Docker, id: string, shared: string): Promise<AgentReady> {
  const file = join(shared, READY_FILE);
  const deadline = Date.now() + AGENT_READY_TIMEOUT_MS;
  for (let i = 0; ; i++) {
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as AgentReady;
      } catch {
        /* being written */
      }
    }
    if (i % 10 === 9) {
      const state = (await docker.getContainer(id).inspect()) as { State?: { Running?: boolean; ExitCode?: number } };
      if (!state.State?.Running) {
        const logs = String(await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: 20 }));
        throw new Error(
          `the grading sandbox's agent exited (code ${state.State?.ExitCode}) before it was ready: ${logs.trim().slice(-500)}`,
        );
      }
    }
    if (Date.now() > deadline) throw new Error(`the grading sandbox's agent was not ready within ${AGENT_READY_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let counter = 0;
/** Shared folders of sandboxes still open: removed at exit too (Ctrl-C stops the containers, not close()). */
const openShared = new Set<string>();
process.once('exit', () => {
  for (const dir of openShared) rmSync(dir, { recursive: true, force: true });
});

/** Starts a sandbox for one tree; close() removes the container, then the network. */
export async function openSandbox(spec: SandboxSpec): Promise<OpenSandbox> {
  const client = await getContainerRuntimeClient();
  const docker = client.container.dockerode;
  await ensureImage(client);
  const name = `lab-sandbox-${process.pid}-${++counter}`;
  // Shared with the container. Sticky and open to all: the agent (root in the container, without
  // the capability to override permissions) writes its socket here, and services, which run as
  // another user, cannot replace it.
  const shared = mkdtempSync(join(tmpdir(), 'lab-sandbox-'));
  chmodSync(shared, 0o1777);
  openShared.add(shared);
  const undo: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    undo.length = 0;
    rmSync(shared, { recursive: true, force: true });
    openShared.delete(shared);
  };
  try {
    // What it makes in Docker is made as one tracked start: a Ctrl-C meanwhile waits for it, then
    // removes it (containers.ts stopAll), and once stopping, no sandbox is begun.
    const made = await tracked('the grading sandbox', async () => {
      const labels = { ...ownerLabels(), [SANDBOX_LABEL]: name };
      const network = await docker.createNetwork({ Name: name, Driver: 'bridge', Internal: true, Labels: labels });
      undo.push(() => network.remove());
      const netInfo = (await network.inspect()) as { IPAM?: { Config?: { Gateway?: string }[] } };
      const gateway = netInfo.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
      if (!gateway) throw new Error(`the sandbox network ${name} has no gateway address`);
      const endpoints = await attach(docker, spec.endpoints, name, undo, !!spec.ownServers);
      const readOnly = [spec.build, spec.hostScript, spec.agentScript, ...(spec.vendorDir ? [spec.vendorDir] : [])];
      const container = await docker.createContainer({
        name,
        Image: IMAGES.node,
        Cmd: ['node', spec.agentScript],
        User: '0:0',
        WorkingDir: '/tmp',
        Env: [
          `LAB_HOST_SCRIPT=${spec.hostScript}`,
          `LAB_HOST_VENDOR=${spec.vendorBundle ?? ''}`,
          `LAB_HOST_PRELOAD=${spec.preload.join(',')}`,
          `LAB_POOL_SIZE=${spec.poolSize ?? 4}`,
        ],
        Labels: labels,
        HostConfig: {
          NetworkMode: name,
          ReadonlyRootfs: true,
          Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${SANDBOX_LIMITS.tmpBytes}` },
          Binds: [...readOnly.map((p) => `${p}:${p}:ro`), `${shared}:${SHARED_DIR}`],
          PidsLimit: SANDBOX_LIMITS.pids,
          Memory: SANDBOX_LIMITS.memoryBytes,
          MemorySwap: SANDBOX_LIMITS.memoryBytes,
          NanoCpus: SANDBOX_LIMITS.cpus * 1e9,
          CapDrop: ['ALL'],
          // Switching to the services' user, and signalling them (SIGTERM, SIGKILL: kill(), a hung start).
          CapAdd: ['SETUID', 'SETGID', 'KILL'],
          SecurityOpt: ['no-new-privileges'],
        },
      });
      undo.push(() => container.remove({ force: true }));
      await container.start();
      return { container, gateway, endpoints };
    });
    const { container, gateway, endpoints } = made;
    const ready = await waitForAgent(docker, container.id, shared);
    return {
      pool: join(shared, ready.socket),
      side: { host: gateway, allow: [ready.address, gateway] },
      endpoints,
      id: container.id,
      address: ready.address,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
