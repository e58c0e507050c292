import { describe, expect, test } from 'vitest';
import { FailTogether, kendallTau, retrySpread, worstOf } from '../testing/spread.js';

describe('kendallTau', () => {
  test('is 1 for the same order, −1 for the reverse, and counts ties as neither', () => {
    expect(kendallTau([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(kendallTau([1, 2, 3, 4], [40, 30, 20, 10])).toBe(-1);
    // pairs: (1,2) tie, (1,3) +, (1,4) +, (2,3) +, (2,4) +, (3,4) − → (4 − 1) / 6
    expect(kendallTau([1, 2, 3, 4], [5, 5, 9, 7])).toBeCloseTo(3 / 6);
  });

  test('refuses series of different lengths, or fewer than two pairs', () => {
    expect(() => kendallTau([1, 2], [1])).toThrow(/2 values against 1/);
    expect(() => kendallTau([1], [1])).toThrow(/at least two/);
  });
});

describe('retrySpread', () => {
  test('sorts the delays, trims the ends from the spread, and correlates the failure order with the delays as given', () => {
    // Retries in failure order, each 10 ms after the one before, plus one straggler at each end.
    const r = retrySpread([0, 1, 2, 3, 4, 5], [2_000, 2_010, 2_020, 2_030, 2_040, 9_000], { trim: 1 });
    expect(r.delays).toEqual([2_000, 2_010, 2_020, 2_030, 2_040, 9_000]);
    expect(r.spread).toBe(30);
    expect(r.tau).toBe(1);
    const shuffled = retrySpread([0, 1, 2, 3, 4, 5], [2_900, 2_100, 2_500, 2_050, 2_700, 2_300], { trim: 2 });
    expect(shuffled.delays).toEqual([2_050, 2_100, 2_300, 2_500, 2_700, 2_900]);
    expect(shuffled.spread).toBe(200);
    expect(shuffled.tau).toBeCloseTo(-3 / 15);
  });

  test('refuses a burst too small to trim', () => {
    expect(() => retrySpread([0, 1, 2, 3], [1, 2, 3, 4], { trim: 2 })).toThrow(/leave none/);
  });
});

describe('FailTogether', () => {
  test('holds the first call of each member until all have come, fails them at one moment, and fails late ones at once', () => {
    const failed: string[] = [];
    const burst = new FailTogether(3, (k) => k.startsWith('m-'));
    expect(burst.take('other', () => failed.push('other'))).toBe(false);
    expect(burst.take('m-1', () => failed.push('m-1'))).toBe(true);
    expect(burst.take('m-1', () => failed.push('m-1 again'))).toBe(false); // a retry is not the burst's
    expect(burst.take('m-2', () => failed.push('m-2'))).toBe(true);
    expect(failed).toEqual([]);
    expect(burst.releasedAt).toBeUndefined();
    expect(burst.take('m-3', () => failed.push('m-3'))).toBe(true);
    expect(failed).toEqual(['m-1', 'm-2', 'm-3']);
    const at = burst.releasedAt;
    expect(at).toBeTypeOf('number');
    expect(burst.release()).toBe(at);
    expect(burst.take('m-4', () => failed.push('m-4'))).toBe(true);
    expect(failed).toEqual(['m-1', 'm-2', 'm-3', 'm-4']);
    expect(burst.order).toEqual(['m-1', 'm-2', 'm-3', 'm-4']);
  });

  test('release() fails what is held when fewer than all members have come', () => {
    const failed: string[] = [];
    const burst = new FailTogether(5, () => true);
    burst.take('a', () => failed.push('a'));
    expect(failed).toEqual([]);
    burst.release();
    expect(failed).toEqual(['a']);
  });
});

describe('FailTogether.retries and worstOf', () => {
  test('measure each retry from the release, rank by the order the failures came, and pick the worst of several bursts', () => {
    const burst = new FailTogether(5, () => true);
    for (const k of ['c', 'a', 'e', 'b', 'd']) burst.take(k, () => {});
    const t = burst.releasedAt!;
    // Retries in exactly the order the failures came (c, a, e, b, d), 10 ms apart: equal waits.
    const ordered = burst.retries(['a', 'b', 'c', 'd', 'e'], [t + 2_010, t + 2_030, t + 2_000, t + 2_040, t + 2_020], { trim: 1 });
    expect(ordered.tau).toBe(1);
    expect(ordered.spread).toBe(20);
    const spreadOut = retrySpread([0, 1, 2, 3, 4], [2_900, 2_100, 2_500, 2_050, 2_700], { trim: 1 });
    const { narrowest, inOrder } = worstOf([spreadOut, ordered]);
    expect(narrowest).toBe(ordered);
    expect(inOrder).toBe(ordered);
    expect(() => burst.retries(['a', 'zz'], [t, t])).toThrow(/never called \(zz\)/);
  });
});
