/** Golden tests of the grade reports: the saved files in golden/ are the expected output. */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { classCsv, classSummary, gradeMark, mergeClassCsv, toClassroom, toJson, toJUnit, toMarkdown } from '../formats.js';
import type { LearnerGrade } from '../grade.js';

const grade: LearnerGrade = {
  learner: 'ada',
  points: 5,
  maxPoints: 12,
  labs: [
    {
      lab: 'deadlocks',
      learner: 'ada',
      copy: '/class/ada/01-deadlocks',
      points: 5,
      maxPoints: 12,
      core: { points: 5, max: 10 },
      bonus: { points: 0, max: 2 },
      hintsUsed: 2,
      hintsRecorded: true,
      integrity: ['files outside src/ (not graded): notes.txt'],
      durationMs: 21_500,
      gradedAt: '2026-12-02T10:00:00.000Z',
      sandboxed: true,
      tests: [
        {
          id: 'transfer',
          name: 'when one transfer is made then both balances move',
          status: 'passed',
          points: 1,
          tier: 'core',
          durationMs: 40,
        },
        {
          id: 'storm',
          name: 'when 60 opposing transfers run at once then all succeed',
          status: 'passed',
          points: 4,
          tier: 'core',
          durationMs: 6_100,
        },
        {
          id: 'withdrawal-race',
          name: 'when 40 withdrawals race then no update is lost',
          status: 'failed',
          points: 5,
          tier: 'core',
          durationMs: 300,
          failure:
            'AssertionError: lost update: 31 withdrawals of 300 succeeded from an account holding 6000 (exactly 20 can) <&> "quoted"',
        },
        {
          id: 'zero-deadlocks',
          name: 'bonus: zero deadlocks',
          status: 'failed',
          points: 2,
          tier: 'bonus',
          durationMs: 6_000,
          failure: 'Error: 4 deadlocks (40P01)',
        },
      ],
    },
  ],
};
const golden = (f: string) => join(import.meta.dirname, 'golden', f);

describe('grade reports', () => {
  test('when written as JSON then there is one result per test with its id, points and message', async () => {
    await expect(toJson(grade)).toMatchFileSnapshot(golden('grade.json'));
  });
  test('when written as JUnit XML then failures carry escaped messages and ids and points are properties', async () => {
    await expect(toJUnit(grade)).toMatchFileSnapshot(golden('grade.junit.xml'));
  });
  test('when written as Markdown then the summary shows core, bonus, hints and notes', async () => {
    await expect(toMarkdown(grade)).toMatchFileSnapshot(golden('grade.md'));
  });
  test('when written for GitHub Classroom then scores add up to the points', async () => {
    const c = JSON.parse(toClassroom(grade));
    expect(c).toMatchObject({ version: 1, status: 'fail', max_score: 12 });
    expect(c.tests.map((t: { score: number }) => t.score)).toEqual([1, 4, 0, 0]);
    await expect(toClassroom(grade)).toMatchFileSnapshot(golden('grade.classroom.json'));
  });
  test('when a class is written as CSV then each learner is one row with mark, core, bonus, a column per test and flags', async () => {
    await expect(classCsv([grade, full, { learner: 'bob', points: 0, maxPoints: 0, labs: [] }], ['deadlocks'])).toMatchFileSnapshot(
      golden('class.csv'),
    );
  });
  test('when a class is summarised then each lab counts its marks and lists the tests most often failed first', async () => {
    await expect(classSummary([grade, full], ['deadlocks'])).toMatchFileSnapshot(golden('class-summary.md'));
  });
});

/** Every core point, no bonus. */
const full: LearnerGrade = {
  learner: 'cleo',
  points: 10,
  maxPoints: 12,
  labs: [
    {
      ...grade.labs[0]!,
      learner: 'cleo',
      points: 10,
      core: { points: 10, max: 10 },
      integrity: [],
      tests: grade.labs[0]!.tests.map((t) => (t.tier === 'core' ? { ...t, status: 'passed' as const, failure: undefined } : t)),
    },
  ],
};

describe('grade marks', () => {
  const lab = grade.labs[0]!;
  test('when every core point is earned then the mark is full core, and Classroom says pass although the bonus was missed', () => {
    expect(gradeMark(full.labs[0]!)).toEqual({ symbol: '✔', word: 'full core' });
    expect(JSON.parse(toClassroom(full)).status).toBe('pass');
  });
  test('when some points are earned, as an untouched starter earns a few, then the mark is partial, never ✔', () => {
    expect(gradeMark(lab)).toEqual({ symbol: '◐', word: 'partial' });
    expect(gradeMark({ ...lab, points: 4, maxPoints: 19, core: { points: 4, max: 17 } })).toEqual({ symbol: '◐', word: 'partial' });
  });
  test('when nothing is earned, or grading failed, then the mark is zero', () => {
    expect(gradeMark({ ...lab, points: 0, core: { points: 0, max: 10 } })).toEqual({ symbol: '✖', word: 'zero' });
    expect(gradeMark({ ...full.labs[0]!, points: 0, core: { points: 0, max: 10 }, error: 'could not be graded' }).word).toBe('zero');
  });
});

describe('merging the class CSVs of several shards', () => {
  const shard = (...learners: LearnerGrade[]) => classCsv(learners, ['deadlocks']);
  const bob: LearnerGrade = { ...full, learner: 'bob', labs: full.labs.map((l) => ({ ...l, learner: 'bob' })) };
  test('when the shards share their columns then the rows follow one header, each learner once', () => {
    const merged = mergeClassCsv([
      { name: 'grades-1/class.csv', text: shard(grade) },
      { name: 'grades-2/class.csv', text: shard(full, bob) },
    ]);
    expect(
      merged
        .split('\n')
        .filter(Boolean)
        .map((r) => r.split(',')[0]),
    ).toEqual(['learner', 'ada', 'cleo', 'bob']);
    expect(merged).toBe(shard(grade, full, bob));
  });
  test('when a learner is in two shards, or the columns differ, then it is refused, naming the file', () => {
    expect(() =>
      mergeClassCsv([
        { name: 'a.csv', text: shard(grade) },
        { name: 'b.csv', text: shard(grade) },
      ]),
    ).toThrow('ada is in both a.csv and b.csv: each learner must be graded once (--shard I/N splits a class)');
    expect(() =>
      mergeClassCsv([
        { name: 'a.csv', text: shard(grade) },
        { name: 'b.csv', text: classCsv([full], ['deadlocks', 'caching']) },
      ]),
    ).toThrow('b.csv has other columns than a.csv: merge CSVs of the same labs, graded by the same kit');
  });
});
