/** Points and an id, declared beside each test: test('when … then …', points(3, { id: 'storm' }), async () => …). */
import type { TestOptions } from 'vitest';

export type Tier = 'core' | 'bonus';

declare module 'vitest' {
  interface TaskMeta {
    points?: number;
    tier?: Tier;
    /** The test's id: lab.json and variant.json name tests by it, so the sentence can be reworded in the test file alone. */
    id?: string;
  }
}

/** A test's own declarations besides its points: its id (short kebab-case, unique in the lab) and any Vitest option. */
export type Declared = Omit<TestOptions, 'meta'> & { id: string };

/** A core test worth n points. */
export function points(n: number, { id, ...opts }: Declared): TestOptions {
  return { ...opts, meta: { id, points: n, tier: 'core' } };
}

/** A bonus test worth n points: beyond the core fix, e.g. the cleaner of two correct fixes. */
export function bonus(n: number, { id, ...opts }: Declared): TestOptions {
  return { ...opts, meta: { id, points: n, tier: 'bonus' } };
}
