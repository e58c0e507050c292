/** Running work concurrently, and what it cost. */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';

/** Runs tasks with at most `jobs` in flight; results keep the input order. */
export async function pool<T, R>(items: T[], jobs: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

/**
 * Trees (or submissions) run at once by default: two per core. A lab run spends much of its time
 * waiting (on windows, on a replica's delay, on service start), so one per core leaves the CPU idle.
 */
export function defaultJobs(): number {
  return Math.max(2, 2 * availableParallelism());
}

const TICKS = 100; // USER_HZ on Linux

export interface CpuSample {
  /** CPU seconds of this process and every child it has reaped (Vitest workers, service hosts). */
  kit: number;
  /** Busy CPU seconds of the whole machine, servers included. */
  machine: number;
}

/** A CPU reading (Linux /proc); NaN where /proc is not there. */
export function cpuNow(): CpuSample {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14–17 of stat(5): utime stime cutime cstime; after the ")" they start at index 11.
    const kit = [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0) / TICKS;
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busy = cpu.slice(0, 8).reduce((a, v, i) => (i === 3 || i === 4 ? a : a + v), 0) / TICKS;
    return { kit, machine: busy };
  } catch {
    return { kit: NaN, machine: NaN };
  }
}
