/**
 * Evidence: figures recorded by tests reach a run's results through the test's meta, progress keeps
 * the first failing run's and the first passing run's, and the before/after card reads as golden.
 */
import { describe, expect, test } from 'vitest';
import { getCurrentTest } from 'vitest/suite';
import { join } from 'node:path';
import { evidenceCard, nextEvidence, type Evidence } from '../evidence.js';
import type { Painter } from '../report.js';
import type { RunResult, TestResult } from '../runner.js';
import { evidence } from '../testing/index.js';

const plain: Painter = { green: (s) => s, red: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };
const golden = (f: string) => join(import.meta.dirname, 'golden', f);

const t = (status: TestResult['status'], evidence?: TestResult['evidence']): TestResult => ({
  name: 'x',
  status,
  points: 1,
  tier: 'core',
  durationMs: 1,
  ...(evidence ? { evidence } : {}),
});
const run = (...tests: TestResult[]): RunResult => ({ lab: 'deadlocks', tree: 'your copy', tests, durationMs: 1 });

describe('recording a figure in a test', () => {
  test('when a test records figures then they are in its meta, a name recorded again keeps its last value', () => {
    evidence('deadlocks', 23);
    evidence('transfers succeeded', 37, { of: 60 });
    evidence('deadlocks', 24);
    expect(getCurrentTest()!.meta.evidence).toEqual([
      { name: 'deadlocks', value: 24 },
      { name: 'transfers succeeded', value: 37, of: 60 },
    ]);
  });

  test('when the value is not a number (nothing was observed) then nothing is recorded and nothing throws', () => {
    expect(() => evidence('p95', Number.NaN, { unit: 'ms' })).not.toThrow();
    expect(() => evidence('p95', undefined as unknown as number)).not.toThrow();
    expect(getCurrentTest()!.meta.evidence).toBeUndefined();
  });

  test('when a name is empty then the test author is told', () => {
    expect(() => evidence(' ', 1)).toThrow(/is not a name of 2 to 60 characters/);
  });
});

describe('the evidence progress keeps', () => {
  const failing1 = run(t('failed', [{ name: 'deadlocks', value: 23 }]), t('passed'));
  const failing2 = run(
    t('failed', [{ name: 'deadlocks', value: 5 }]),
    t('failed', [{ name: 'money created', value: 6_000, unit: 'cents' }]),
  );
  const filtered = run(t('passed', [{ name: 'deadlocks', value: 0 }]), t('skipped'));
  const passing = run(t('passed', [{ name: 'deadlocks', value: 0 }]), t('passed', [{ name: 'money created', value: 0, unit: 'cents' }]));
  const passingLater = run(t('passed', [{ name: 'deadlocks', value: 2 }]), t('passed'));

  test('when runs fail, then pass, then pass again then before is the first failing figures and after the first passing', () => {
    let ev: Evidence | undefined;
    for (const r of [failing1, failing2, filtered, passing, passingLater]) ev = nextEvidence(ev, r);
    expect(ev).toEqual({
      // deadlocks from the first failing run; money created first seen in the second.
      before: [
        { name: 'deadlocks', value: 23 },
        { name: 'money created', value: 6_000, unit: 'cents' },
      ],
      // A --filter run that passed does not count: after comes from the first complete passing run.
      after: [
        { name: 'deadlocks', value: 0 },
        { name: 'money created', value: 0, unit: 'cents' },
      ],
    });
  });

  test('when the copy breaks again after passing then the card keeps the evidence it had', () => {
    const ev = nextEvidence(nextEvidence(nextEvidence(undefined, failing1), passing), failing2);
    expect(ev.before).toEqual([{ name: 'deadlocks', value: 23 }]);
  });

  test('when the before/after card is printed then it reads as the golden file', async () => {
    const ev: Evidence = {
      before: [
        { name: 'deadlocks', value: 23 },
        { name: 'transfers succeeded', value: 37, of: 60 },
        { name: 'money created', value: 6_000, unit: 'cents' },
      ],
      after: [
        { name: 'deadlocks', value: 0 },
        { name: 'transfers succeeded', value: 60, of: 60 },
        { name: 'money created', value: 0, unit: 'cents' },
        { name: 'p95', value: 41.25, unit: 'ms' },
      ],
    };
    const passedFirst: Evidence = { before: [], after: [{ name: 'deadlocks', value: 0 }] };
    await expect(`${evidenceCard(ev, plain)}\n\n${evidenceCard(passedFirst, plain)}\n`).toMatchFileSnapshot(golden('evidence-card.txt'));
    expect(evidenceCard({ before: [], after: [] }, plain)).toBeUndefined();
  });
});
