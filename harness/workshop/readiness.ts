/**
 * What `lab doctor` adds for a room: disk space, and that a test container really starts (the
 * failure workshops hit on the day), then one verdict line.
 */
import { statfsSync } from 'node:fs';
import { ROOT } from '../paths.js';

export type Line = (good: boolean, what: string, fix?: string) => void;

/** Free space the kit wants: staged trees, builds, and the containers' data. */
export const MIN_FREE_BYTES = 2e9;

const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;

function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** Disk space, then (when Docker and the images are fine) a real test container started and stopped. */
export async function roomChecks(line: Line, canStart: boolean): Promise<void> {
  const disks: Array<[string, string]> = [['the kit', ROOT]];
  if (canStart) {
    const { dockerRootDir } = await import('../servers/containers.js');
    const root = await dockerRootDir();
    if (root) disks.push(['Docker', root]);
  }
  for (const [what, path] of disks) {
    const free = freeBytes(path);
    if (free === undefined) continue; // Docker's root is inside Docker Desktop's VM
    line(
      free >= MIN_FREE_BYTES,
      `${gb(free)} free for ${what} (${path})`,
      `free up space: the kit wants at least ${gb(MIN_FREE_BYTES)} there`,
    );
  }
  if (!canStart) return; // Docker or an image is already reported: a container could not start
  const t0 = Date.now();
  try {
    const { startServices } = await import('../servers/containers.js');
    const started = await startServices(['postgres']);
    const ms = Date.now() - t0;
    await started.stop();
    line(true, `a test container starts (Postgres ready in ${(ms / 1000).toFixed(1)} s)`);
  } catch (e) {
    line(false, `a test container does not start: ${(e as Error).message.split('\n')[0]}`, 'fix what it says, then run `lab doctor` again');
  }
}

/** The last line of `lab doctor`. */
export function verdict(failed: string[]): string {
  return failed.length === 0
    ? 'ready for the workshop'
    : `not ready for the workshop: fix ${failed.length === 1 ? 'this' : `these ${failed.length}`}: ${failed.join('; ')}`;
}
