/** Submissions as folders or archives (grade.ts): what a class folder holds, and unpacking. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { listSubmissions, unpackSubmission } from '../grade.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'submissions-'));
const tar = (cwd: string, out: string, ...members: string[]) => {
  // -P keeps member names as given ("../../x"), as a hostile archive would have them.
  const r = spawnSync('tar', ['-czPf', out, ...members], { cwd });
  if (r.status !== 0) throw new Error(String(r.stderr));
};

describe('submissions', () => {
  test('when a class folder holds folders and archives then each is one learner, and other files are not', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'ada'));
    for (const f of ['bob.tar.gz', 'carol.zip', 'dan.tgz', 'notes.txt', '.hidden.tar']) writeFileSync(join(dir, f), '');
    expect(listSubmissions(dir)).toEqual([
      { learner: 'ada', dir: join(dir, 'ada') },
      { learner: 'bob', dir: '', archive: join(dir, 'bob.tar.gz') },
      { learner: 'carol', dir: '', archive: join(dir, 'carol.zip') },
      { learner: 'dan', dir: '', archive: join(dir, 'dan.tgz') },
    ]);
  });

  test('when a class folder holds a link loop then it is still one learner (with no copy), not a crash', () => {
    const dir = scratch();
    symlinkSync('loop', join(dir, 'loop'));
    expect(listSubmissions(dir)).toEqual([{ learner: 'loop', dir: join(dir, 'loop') }]);
  });

  test('when an archive holds the copies under one top folder then grading starts there', () => {
    const src = scratch();
    mkdirSync(join(src, 'bob', '01-deadlocks', 'src'), { recursive: true });
    writeFileSync(join(src, 'bob', '01-deadlocks', 'src', 'app.ts'), '');
    tar(src, join(src, 'bob.tar.gz'), 'bob');
    const { root, dir } = unpackSubmission(join(src, 'bob.tar.gz'));
    expect(dir).toBe(join(root, 'bob'));
    expect(existsSync(join(dir, '01-deadlocks', 'src', 'app.ts'))).toBe(true);
    rmSync(root, { recursive: true });
  });

  test('when an archive will not unpack then it says so in one line', () => {
    const src = scratch();
    writeFileSync(join(src, 'ivan.tar.gz'), 'not an archive');
    expect(() => unpackSubmission(join(src, 'ivan.tar.gz'))).toThrow(/^the archive ivan\.tar\.gz could not be unpacked: \S/);
  });

  test('when an archive has members that climb out of it then nothing lands outside its folder', () => {
    const src = scratch();
    mkdirSync(join(src, 'a', 'b'), { recursive: true });
    writeFileSync(join(src, 'escaped-by-test.txt'), 'x');
    tar(join(src, 'a', 'b'), join(src, 'evil.tar.gz'), '../../escaped-by-test.txt');
    // Unpacked into tmpdir()/lab-submission-XXXX, "../../" would reach tmpdir()'s parent.
    const outside = resolve(tmpdir(), '..', 'escaped-by-test.txt');
    expect(existsSync(outside)).toBe(false);
    expect(() => unpackSubmission(join(src, 'evil.tar.gz'))).toThrow(
      /^the archive evil\.tar\.gz could not be unpacked: tar: \.\.\/\.\.\/escaped-by-test\.txt: Member name contains '\.\.'$/,
    );
    expect(existsSync(outside), `${outside} was written`).toBe(false);
  });
});
