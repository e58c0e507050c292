/**
 * End to end: `lab grade --submissions` on the nine fixture submissions (see
 * harness/test/fixtures/submissions/README.md), through the real CLI, containers and all.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildClass, EXPECTED } from '../test/fixtures/submissions/build-class.js';
import { ROOT } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'lab-grade-'));
const classDir = join(work, 'class');
const outDir = join(work, 'grades');
let run: ReturnType<typeof spawnSync>;

const unpacked = () => readdirSync(tmpdir()).filter((f) => f.startsWith('lab-submission-'));
let unpackedBefore: string[];

beforeAll(() => {
  buildClass(classDir);
  unpackedBefore = unpacked();
  run = spawnSync(
    process.execPath,
    [join(ROOT, 'harness/cli/bin.js'), 'grade', 'deadlocks', '--submissions', classDir, '--out', outDir, '--jobs', '2', '--timeout', '180'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } },
  );
}, 900_000);

describe('lab grade --submissions', () => {
  test('when grading ran then it exits 0 whatever the scores', () => {
    expect(run.status, String(run.stderr) + String(run.stdout)).toBe(0);
  });

  test('when the class is graded then every learner gets the expected points, flags and errors', () => {
    const rows = readFileSync(join(outDir, 'class.csv'), 'utf8').trim().split('\n');
    const header = rows[0]!.split(',');
    expect(header.slice(0, 10)).toEqual([
      'learner',
      'deadlocks mark',
      'deadlocks core',
      'deadlocks core max',
      'deadlocks bonus',
      'deadlocks bonus max',
      'deadlocks points',
      'deadlocks max',
      'deadlocks hints',
      'deadlocks graded at',
    ]);
    expect(header.slice(10, -3)).toHaveLength(7); // one column per test, by id
    expect(header.slice(10, -3)).toContain('deadlocks: storm');
    expect(header.slice(-3)).toEqual(['total', 'max', 'flags']);
    const got = Object.fromEntries(
      Object.keys(EXPECTED).map((learner) => {
        const json = JSON.parse(readFileSync(join(outDir, learner, 'results.json'), 'utf8'));
        const lab = json.labs[0];
        return [
          learner,
          {
            points: json.points,
            max: json.maxPoints,
            flags: EXPECTED[learner as keyof typeof EXPECTED].flags.filter((f) => lab.integrity.some((i: string) => i.startsWith(f))),
            error: lab.error !== null,
          },
        ];
      }),
    );
    const want = Object.fromEntries(
      Object.entries(EXPECTED).map(([k, v]) => [k, { points: v.points, max: 12, flags: v.flags, error: v.error }]),
    );
    expect(got).toEqual(want);
  });

  test('when learners are graded then each line marks core points honestly: an untouched starter is partial, never ✔', () => {
    const out = String(run.stdout);
    expect(out).toMatch(/◐ partial\s+alice-starter · deadlocks: core \d+\/\d+, bonus 0\/\d+/);
    expect(out).toMatch(/✔ full core\s+bob-solution · deadlocks: core (\d+)\/\1, bonus (\d+)\/\2/);
    expect(out).not.toMatch(/✔[^\n]*alice-starter/);
    expect(readFileSync(join(outDir, 'class-summary.md'), 'utf8')).toMatch(/## deadlocks\n\nfull core \d+ · partial \d+ · zero \d+/);
  });

  test('when a learner is graded then their reports are written at once, not when the whole batch ends', () => {
    const written = Object.keys(EXPECTED).map((learner) => statSync(join(outDir, learner, 'results.json')).mtimeMs);
    const end = statSync(join(outDir, 'class.csv')).mtimeMs;
    expect(end - Math.min(...written), 'ms between the first learner’s reports and the end of the batch').toBeGreaterThan(1_000);
  });

  test('when archives were graded then their unpacked copies are gone', () => {
    expect(unpacked().filter((f) => !unpackedBefore.includes(f))).toEqual([]);
  });

  test('when a submission edited its tests then they were not used', () => {
    const json = JSON.parse(readFileSync(join(outDir, 'dave-edited-tests', 'results.json'), 'utf8'));
    const storm = json.labs[0].tests.find((t: { id: string }) => t.id === 'storm');
    expect(storm.status).toBe('failed');
    expect(json.labs[0].tests).toHaveLength(7);
  });

  test('when reports are written then each learner has JSON, JUnit, Markdown and Classroom output', () => {
    const dir = join(outDir, 'bob-solution');
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toMatch(/<testsuite name="bob-solution · deadlocks" tests="7" failures="0"/);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/^# bob-solution: 12\/12 points/);
    const classroom = JSON.parse(Buffer.from(readFileSync(join(dir, 'classroom.b64'), 'utf8'), 'base64').toString());
    expect(classroom).toMatchObject({ version: 1, status: 'pass', max_score: 12 });
    expect(classroom.tests.reduce((a: number, t: { score: number }) => a + t.score, 0)).toBe(12);
  });
});
