/** Process ids, shared by the harness's two sides (servers/ and testing/). */

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Marks the harness's own SIGINT/SIGTERM handlers (containers.ts: stop every container, then
 * exit), so that removing the handlers a library installs (runner.ts createQuietVitest) never
 * removes them, even when they were installed while the library was being set up.
 */
export const OWN_SIGNAL_HANDLER = Symbol.for('backend-labs.own-signal-handler');
