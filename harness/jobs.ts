/** Running work concurrently, and what it cost. */
import { availableParallelism } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';

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
 * The most trees (or submissions) run at once by default: three per core. How many really run is
 * decided by the CPU (see gatedPool): a lab whose runs mostly wait (on windows, on a replica's
 * delay) gets many at once, a lab whose runs keep the cores busy gets about one per core.
 */
export function defaultJobs(): number {
  return Math.max(2, 3 * availableParallelism());
}

/** Busy fraction of all cores over the last `ms` (1 where /proc is not there: no gating then). */
async function busyFraction(ms: number): Promise<number> {
  const a = machineCpu();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineCpu();
  const cores = availableParallelism();
  const f = (b - a) / (((performance.now() - t0) / 1000) * cores);
  return Number.isFinite(f) ? f : 0;
}

export interface GateOptions {
  /** At most this many at once. */
  max: number;
  /** Start another only while the machine's cores are less busy than this (0–1). */
  busyBelow?: number;
  /** How long to watch the CPU before deciding (also spaces out the starts). */
  sampleMs?: number;
}

/**
 * Like pool(), but the number in flight follows the CPU: up to one per core start at once; each
 * further one starts only when the machine has been less busy than `busyBelow` over the last
 * `sampleMs`. Waits overlap; CPU-bound work is not piled onto busy cores, where it would only get
 * slower and push timing-sensitive tests past their margins.
 */
export async function gatedPool<T, R>(items: T[], opts: GateOptions, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  const cores = availableParallelism();
  const busyBelow = opts.busyBelow ?? 0.7;
  const sampleMs = opts.sampleMs ?? 1_500;
  let next = 0;
  let running = 0;
  const all: Promise<void>[] = [];
  let wake: (() => void) | undefined;
  let failed: { error: unknown } | undefined;
  const launch = () => {
    const i = next++;
    running++;
    all.push(
      fn(items[i]!)
        .then(
          (r) => void (results[i] = r),
          (error: unknown) => void (failed ??= { error }),
        )
        .finally(() => {
          running--;
          wake?.();
        }),
    );
  };
  while (next < items.length && !failed) {
    if (running < Math.min(opts.max, cores)) {
      launch();
      continue;
    }
    if (running < opts.max && (await busyFraction(sampleMs)) < busyBelow) {
      if (running < opts.max) launch();
      continue;
    }
    if (running >= opts.max) await new Promise<void>((r) => (wake = r));
  }
  await Promise.all(all);
  if (failed) throw failed.error;
  return results;
}

const TICKS = 100; // USER_HZ on Linux

export interface CpuSample {
  /**
   * CPU seconds of this process and of its children: those it has reaped, and those still running
   * (Vitest workers live from lab to lab, so waiting for them to be reaped would bill their work to
   * nothing).
   */
  kit: number;
  /** Busy CPU seconds of the whole machine, servers included. */
  machine: number;
}

/** utime + stime + cutime + cstime of one /proc/PID/stat line, in seconds; and its parent. */
function statCpu(stat: string): { ppid: number; cpu: number } {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 4 and 14–17 of stat(5): ppid, then utime stime cutime cstime; after the ")" they start at index 1 and 11.
  return { ppid: Number(f[1]), cpu: [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0) / TICKS };
}

/** A CPU reading (Linux /proc); NaN where /proc is not there. */
export function cpuNow(): CpuSample {
  try {
    let kit = statCpu(readFileSync('/proc/self/stat', 'utf8')).cpu;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const child = statCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        if (child.ppid === process.pid) kit += child.cpu;
      } catch {
        /* it exited meanwhile: its time is in our cutime now, or will be */
      }
    }
    return { kit, machine: machineCpu() };
  } catch {
    return { kit: NaN, machine: NaN };
  }
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat); NaN where there is none. */
export function machineCpu(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    return cpu.slice(0, 8).reduce((a, v, i) => (i === 3 || i === 4 ? a : a + v), 0) / TICKS;
  } catch {
    return NaN;
  }
}
