/** Splitting a class across CI runners: lab grade --submissions DIR --shard I/N. */
import { describe, expect, test } from 'vitest';
import { parseShard, shardOf } from '../grade.js';

const learners = (names: string[]) => names.map((learner) => ({ learner, dir: `/class/${learner}` }));

describe('shards', () => {
  test('when a class is split into N shards then every learner is graded exactly once, whatever order the folder lists them in', () => {
    const names = Array.from({ length: 23 }, (_, i) => `learner-${String(i).padStart(2, '0')}`);
    const shuffled = [...names].reverse();
    for (const n of [1, 2, 3, 4, 7, 23]) {
      const shards = Array.from({ length: n }, (_, i) => shardOf(learners(shuffled), i + 1, n).map((s) => s.learner));
      expect(shards.flat().sort()).toEqual(names);
      expect(Math.max(...shards.map((s) => s.length)) - Math.min(...shards.map((s) => s.length))).toBeLessThanOrEqual(1);
      expect(shards).toEqual(Array.from({ length: n }, (_, i) => shardOf(learners(names), i + 1, n).map((s) => s.learner)));
    }
  });

  test.each([
    ['1/1', { index: 1, count: 1 }],
    ['2/4', { index: 2, count: 4 }],
    ['0/2', undefined],
    ['3/2', undefined],
    ['2', undefined],
    ['a/b', undefined],
  ])('when --shard is %s then it reads as %j', (value, want) => {
    expect(parseShard(value)).toEqual(want);
  });
});
