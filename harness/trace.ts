/**
 * LAB_TRACE=<file>: every harness process (CLI, Vitest, test workers, service hosts) appends
 * "<epoch ms> <pid> <event>" lines to the file at the points where a run spends its time. `npm run
 * bench` reads them to split a watch-mode rerun into its parts. Without LAB_TRACE this does nothing.
 */
import { appendFileSync } from 'node:fs';

export function trace(event: string): void {
  const file = process.env.LAB_TRACE;
  if (file) appendFileSync(file, `${(performance.timeOrigin + performance.now()).toFixed(1)} ${process.pid} ${event}\n`);
}
