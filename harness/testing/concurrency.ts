/** Fire work that really overlaps: every task is created first, then released together. */

export type Settled<T> = { ok: true; value: T; ms: number } | { ok: false; error: Error; ms: number };

/**
 * Runs fn(0..n-1) concurrently behind a barrier. All n calls are set up before any is released, so
 * they hit the service at the same moment instead of trickling in as they are created. Never
 * rejects: each result says whether its call succeeded.
 */
export async function overlap<T>(n: number, fn: (i: number) => Promise<T>): Promise<Settled<T>[]> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let armed = 0;
  let allArmed!: () => void;
  const ready = new Promise<void>((r) => (allArmed = r));
  const tasks = Array.from({ length: n }, async (_, i): Promise<Settled<T>> => {
    if (++armed === n) allArmed();
    await gate;
    const t0 = performance.now();
    try {
      return { ok: true, value: await fn(i), ms: performance.now() - t0 };
    } catch (e) {
      return { ok: false, error: e as Error, ms: performance.now() - t0 };
    }
  });
  if (n === 0) return [];
  await ready;
  release();
  return Promise.all(tasks);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until check() returns a truthy value or the time runs out; returns the last value. */
export async function eventually<T>(check: () => Promise<T>, { timeoutMs = 5_000, everyMs = 50 } = {}): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = await check();
  while (!last && Date.now() < end) {
    await sleep(everyMs);
    last = await check();
  }
  return last;
}
