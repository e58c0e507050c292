/** Points, declared beside each test: test('when … then …', points(3), async () => …). */
import type { TestOptions } from 'vitest';

export type Tier = 'core' | 'bonus';

declare module 'vitest' {
  interface TaskMeta {
    points?: number;
    tier?: Tier;
  }
}

/** A core test worth n points. */
export function points(n: number, opts: Omit<TestOptions, 'meta'> = {}): TestOptions {
  return { ...opts, meta: { points: n, tier: 'core' } };
}

/** A bonus test worth n points: beyond the core fix, e.g. the cleaner of two correct fixes. */
export function bonus(n: number, opts: Omit<TestOptions, 'meta'> = {}): TestOptions {
  return { ...opts, meta: { points: n, tier: 'bonus' } };
}
