/**
 * End to end: a learner's session through the real CLI and containers. The starter's run records
 * its figures (the tests' meta carries them to the runner); after the reference fix is copied in,
 * the passing run ends with the before/after card, in the learner's own numbers.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { findLab } from '../lab-schema.js';
import { ROOT } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'evidence-'));
const lab = (...argv: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'harness/cli/bin.js'), ...argv], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', LAB_WORK_DIR: work },
  });
let before: ReturnType<typeof lab>;
let after: ReturnType<typeof lab>;
/** The learner's progress entry right after the starter's run. */
let starterProgress: { points: number; evidence: { before: Array<{ name: string; value: number }>; after: unknown[] } };

beforeAll(() => {
  expect(lab('start', 'deadlocks').status).toBe(0);
  before = lab('test', 'deadlocks');
  starterProgress = JSON.parse(readFileSync(join(work, '.progress.json'), 'utf8'))['01-deadlocks'];
  const deadlocks = findLab('deadlocks');
  for (const f of readdirSync(deadlocks.solutionDir).filter((f) => f.endsWith('.ts')))
    cpSync(join(deadlocks.solutionDir, f), join(work, '01-deadlocks', 'src', f));
  after = lab('test', 'deadlocks');
}, 600_000);

describe('evidence from a learner’s own runs', () => {
  test('when the starter is tested then the run fails, shows no card, and progress keeps its figures', () => {
    expect(before.status, before.stderr).toBe(1);
    expect(before.stdout).not.toContain('Your evidence');
    expect(starterProgress.points, 'evidence changes no points').toBe(3);
    expect(starterProgress.evidence.before.map((f) => f.name)).toEqual(['deadlocks', 'transfers succeeded', 'money created']);
    expect(starterProgress.evidence.after).toEqual([]);
  });

  test('when the fixed copy passes then lab test ends with the before/after card', () => {
    expect(after.status, after.stdout + after.stderr).toBe(0);
    const out = after.stdout;
    expect(out).toMatch(/\n {2}PASS {2}7\/7 tests, 12\/12 points, [\d.]+ s\n/);
    expect(out).toContain('Your evidence: your first failing run → your first passing run');
    const deadlocks = /\n {2}deadlocks +([\d,]+) {2}→ {2}(\d+)\n/.exec(out);
    expect(deadlocks, out).not.toBeNull();
    expect(Number(deadlocks![1]!.replace(/,/g, '')), 'the starter deadlocks in the storm').toBeGreaterThan(0);
    expect(deadlocks![2]).toBe('0');
    expect(out).toMatch(/\n {2}transfers succeeded +\d+ of 60 {2}→ {2}60 of 60\n/);
    expect(out).toMatch(/\n {2}money created +[\d,]+ cents {2}→ {2}0 cents\n/);
    expect(out).toContain('`lab interview deadlocks`');
  });
});
