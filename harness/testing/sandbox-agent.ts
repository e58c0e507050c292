/**
 * The grading sandbox's agent: the one process the sandbox container starts (servers/sandbox.ts). It is a
 * host pool (testing/host.ts) like the one every CLI run keeps, serving on a Unix socket in the
 * folder the harness shares with the container (/run/lab), and forking the service hosts inside
 * the container. Test workers, outside, ask it for instances over that socket and reach them at
 * the container's own address.
 *
 * It is bundled into one file (runner.ts sandboxScripts) because the container holds none of the
 * kit: only Node, this file, the compiled service-host script, the vendor bundle and the compiled
 * tree under test, all read-only.
 */
import { writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { READY_FILE, SERVICE_UID, SHARED_DIR, type AgentReady } from '../sandbox-protocol.js';
import { HostPool } from './host.js';

/** The container's address on its network (its only non-loopback IPv4 interface). */
function ownAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('the sandbox has no network address');
}

async function main(): Promise<void> {
  process.title = 'lab-sandbox-agent';
  const advertise = ownAddress();
  const pool = new HostPool(SHARED_DIR, Number(process.env.LAB_POOL_SIZE ?? 4), {
    preload: (process.env.LAB_HOST_PRELOAD ?? '').split(',').filter(Boolean),
    advertise,
    runtime: {
      script: process.env.LAB_HOST_SCRIPT,
      vendor: process.env.LAB_HOST_VENDOR || null,
      listen: '0.0.0.0',
      // The services' whole environment: nothing of the grader's.
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp' },
      cwd: '/tmp',
      // Not the agent's user: a service can neither signal the agent nor touch its socket.
      uid: SERVICE_UID,
      gid: SERVICE_UID,
    },
  });
  await pool.listen();
  const socket = pool.socketPath.slice(SHARED_DIR.length + 1);
  const ready: AgentReady = { socket, address: advertise };
  writeFileSync(`${SHARED_DIR}/${READY_FILE}`, JSON.stringify(ready));
  const stop = () => (pool.killNow(), process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  console.error(`sandbox agent: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
