/**
 * Ownership of the containers and networks the harness creates. Each carries two labels:
 *
 *   dev.backend-labs.owner=<pid of the harness process>
 *   dev.backend-labs.host=<host name>:<pid namespace>
 *
 * A pid means something only in the pid namespace it came from: two kits on one Docker engine (two
 * CI jobs in containers, a laptop and a dev container) can each have a process 4242. So a resource
 * is this process's only when both labels match, and an orphan (its owner gone, so any later run of
 * the kit on the same host may remove it) only when it was made on this host, in this pid
 * namespace, by a pid that is no longer alive. Anything else belongs to someone else and is never
 * touched.
 */
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { pidAlive } from '../pids.js';

export const OWNER_LABEL = 'dev.backend-labs.owner';
export const HOST_LABEL = 'dev.backend-labs.host';

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid'); // "pid:[4026531836]"
  } catch {
    return 'pid:?'; // not Linux: one namespace per host
  }
}

/** This host and pid namespace, as the host label says it. */
export const HOST_ID = `${hostname()}:${pidNamespace()}`;

/** The labels every container and network this process creates carries. */
export function ownerLabels(): Record<string, string> {
  return { [OWNER_LABEL]: String(process.pid), [HOST_LABEL]: HOST_ID };
}

/** Docker label filters (ANDed) for what this process created. */
export function mineFilter(): string[] {
  return [`${OWNER_LABEL}=${process.pid}`, `${HOST_LABEL}=${HOST_ID}`];
}

/** Docker label filters for what any kit process on this host, in this pid namespace, created. */
export function thisHostFilter(): string[] {
  return [OWNER_LABEL, `${HOST_LABEL}=${HOST_ID}`];
}

/** Was this resource made here by a harness process that has since died? */
export function isOrphan(labels: Record<string, string> | undefined): boolean {
  if (!labels || labels[HOST_LABEL] !== HOST_ID) return false;
  const pid = Number(labels[OWNER_LABEL]);
  return Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
}
