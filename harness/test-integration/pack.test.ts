/**
 * Hand-in, end to end: a learner starts a lab, reveals a hint, resets, fixes it, packs it with
 * `lab pack`; a grader grades the folder of archives with `lab grade --submissions`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { findLab } from '../lab-schema.js';
import { ROOT } from '../paths.js';
import { stageTree } from '../trees.js';

test('when a learner packs their work then grading the folder of archives scores it, with the hints they used across a reset', () => {
  const root = mkdtempSync(join(tmpdir(), 'lab-pack-'));
  const [work, handedIn, grades] = ['work', 'handed-in', 'grades'].map((d) => join(root, d)) as [string, string, string];
  mkdirSync(handedIn);
  const lab = (...argv: string[]) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'harness', 'cli', 'bin.js'), ...argv], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', LAB_WORK_DIR: work },
      timeout: 600_000,
    });
    expect(r.status, `lab ${argv.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  lab('start', 'deadlocks');
  lab('hint', 'deadlocks');
  lab('reset', 'deadlocks', '--yes');
  // The learner's fix: the reference solution's files.
  cpSync(stageTree(findLab('deadlocks'), { kind: 'solution' }).src, join(work, '01-deadlocks', 'src'), { recursive: true });
  expect(lab('pack', '--name', 'ada', '--out', handedIn)).toMatch(
    /Packed deadlocks into .*ada\.tar\.gz\n\s+deadlocks\s+never tested, hints used 1/,
  );

  lab('grade', 'deadlocks', '--submissions', handedIn, '--out', grades, '--jobs', '1');
  const result = JSON.parse(readFileSync(join(grades, 'ada', 'results.json'), 'utf8'));
  expect(result).toMatchObject({ learner: 'ada', points: 12, maxPoints: 12 });
  expect(result.labs[0]).toMatchObject({ lab: 'deadlocks', hintsUsed: 1, hintsRecorded: true, integrity: [] });
});
