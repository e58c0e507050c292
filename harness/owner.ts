/**
 * Ownership of the containers and networks the harness creates: each carries the label
 * dev.backend-labs.owner=<pid of the harness process>. A resource whose owner is gone is an
 * orphan that any later run may remove; one whose owner is alive belongs to another run and is
 * never touched.
 */
export const OWNER_LABEL = 'dev.backend-labs.owner';

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
