/**
 * Golden test of what `lab test` prints, in the kit's words: the header, then one line per test in
 * the order the tests finished (each printed once, as it finishes), then the verdict.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { header, testLines, verdict, type Painter } from '../report.js';
import type { RunResult, TestResult } from '../runner.js';

const plain: Painter = { green: (s) => s, red: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };
const golden = (f: string) => join(import.meta.dirname, 'golden', f);

const finished: TestResult[] = [
  {
    name: 'when one transfer is made then both balances move and it is recorded',
    status: 'passed',
    points: 1,
    tier: 'core',
    durationMs: 41,
  },
  {
    name: 'when 40 withdrawals race for one account then it is never overdrawn and no update is lost',
    status: 'failed',
    points: 3,
    tier: 'core',
    durationMs: 900,
    failure:
      'AssertionError: lost update: 40 withdrawals of 300 succeeded from an account holding 6000 (exactly 20 can). The account now says 4500,\nbut 12000 was paid out: money was created.: expected 40 to be 20',
  },
  {
    name: 'when 60 opposing transfers run at once on two instances then all succeed and no money is created or lost',
    status: 'failed',
    points: 3,
    tier: 'core',
    durationMs: 2_400,
    failure:
      'AssertionError: 23 of 60 transfers failed (23 × HTTP 500)\nPostgres detected 23 × deadlock detected (40P01) in this database during the storm.\n\n- Expected\n+ Received\n\n- 60\n+ 37',
  },
  {
    name: 'bonus: when the storm runs then Postgres records zero deadlocks',
    status: 'failed',
    points: 2,
    tier: 'bonus',
    durationMs: 4_100,
    failure: 'AssertionError: 59 of 120 transfers failed (59 × HTTP 500): expected 61 to be 120',
  },
];

describe('the report of a run', () => {
  test('when tests finish one by one then each is printed once, as it finishes, then the verdict', async () => {
    const printed: string[] = [header('deadlocks', 'your copy (work/01-deadlocks)', plain)];
    for (const t of finished) printed.push(testLines(t, plain));
    const run: RunResult = { lab: 'deadlocks', tree: 'your copy (work/01-deadlocks)', tests: finished, durationMs: 21_300 };
    printed.push(verdict(run, plain));
    await expect(printed.join('\n') + '\n').toMatchFileSnapshot(golden('report.txt'));
  });

  test('when --filter ran only some tests then the verdict counts those, and says how many did not run', () => {
    const run: RunResult = {
      lab: 'deadlocks',
      tree: 'solution',
      tests: [
        { ...finished[0]!, status: 'passed' },
        { ...finished[1]!, status: 'skipped', failure: undefined },
      ],
      durationMs: 8_300,
    };
    expect(verdict(run, plain)).toBe('  PASS  1/1 tests, 1/1 points, 8.3 s (1 not run: --filter)');
  });

  test('when the run failed outside any test then the verdict says why, before FAIL', () => {
    const run: RunResult = {
      lab: 'deadlocks',
      tree: 'starter',
      tests: [],
      error: 'schema.sql failed to apply: syntax error',
      durationMs: 900,
    };
    expect(verdict(run, plain)).toBe('  ✖ schema.sql failed to apply: syntax error\n  FAIL  0/0 tests, 0/0 points, 0.9 s');
  });
});
