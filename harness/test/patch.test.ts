import { describe, expect, it } from 'vitest';
import { applyFilePatch, diffFiles, parsePatch, PatchError } from '../patch.js';

const text = (...lines: string[]) => lines.map((l) => l + '\n').join('');
const numbered = (n: number, f = (i: number) => `line ${i}`) => text(...Array.from({ length: n }, (_, i) => f(i + 1)));

function roundTrip(before: string | undefined, after: string | undefined): string | null {
  const diff = diffFiles('src.ts', before, after);
  if (diff === '') return before ?? null;
  const [file] = parsePatch(diff);
  return applyFilePatch(file!, before);
}

describe('diffFiles and applyFilePatch', () => {
  it('round-trips a change, an insertion at the top, one at the end, and a deletion', () => {
    const before = numbered(40);
    const cases = [
      numbered(40, (i) => (i === 20 ? 'changed' : `line ${i}`)),
      'first\n' + before,
      before + 'last\n',
      numbered(40, (i) => (i % 7 === 0 ? '' : `line ${i}`)).replace(/^\n/gm, ''),
      text('completely', 'different'),
      '',
    ];
    for (const after of cases) expect(roundTrip(before, after)).toBe(after);
  });

  it('round-trips 300 random edits of a file with repeated lines (a seeded generator)', () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const words = ['a', 'b', '}', '', 'return x;'];
    for (let k = 0; k < 300; k++) {
      const before = Array.from({ length: rand(30) }, () => words[rand(words.length)]! + '\n');
      const after = [...before];
      for (let e = rand(6); e > 0; e--) {
        const at = rand(after.length + 1);
        if (rand(2)) after.splice(at, 1);
        else after.splice(at, 0, words[rand(words.length)]! + '\n');
      }
      expect(roundTrip(before.join(''), after.join(''))).toBe(after.join(''));
    }
  });

  it('creates and deletes whole files', () => {
    expect(roundTrip(undefined, text('new', 'file'))).toBe(text('new', 'file'));
    expect(roundTrip(text('old'), undefined)).toBeNull();
  });

  it('is empty when nothing changed, and keeps 3 lines of context around each change', () => {
    expect(diffFiles('a.ts', numbered(5), numbered(5))).toBe('');
    const diff = diffFiles(
      'a.ts',
      numbered(20),
      numbered(20, (i) => (i === 10 ? 'ten' : `line ${i}`)),
    );
    expect(diff).toBe(
      [
        '--- a/a.ts',
        '+++ b/a.ts',
        '@@ -7,7 +7,7 @@',
        ' line 7',
        ' line 8',
        ' line 9',
        '-line 10',
        '+ten',
        ' line 11',
        ' line 12',
        ' line 13',
        '',
      ].join('\n'),
    );
  });

  it('still applies when lines were added or removed above a hunk (it moves, it does not fuzz)', () => {
    const before = numbered(30);
    const diff = diffFiles(
      'a.ts',
      before,
      numbered(30, (i) => (i === 25 ? 'twenty-five' : `line ${i}`)),
    );
    const moved = 'header 1\nheader 2\n' + before.replace('line 3\n', '');
    const out = applyFilePatch(parsePatch(diff)[0]!, moved);
    expect(out).toBe(moved.replace('line 25\n', 'twenty-five\n'));
  });

  it('refuses a hunk whose context changed, naming the file, the hunk and the line it expected', () => {
    const diff = diffFiles(
      'ledger.ts',
      numbered(10),
      numbered(10, (i) => (i === 5 ? 'five' : `line ${i}`)),
    );
    const drifted = numbered(10, (i) => (i === 4 ? 'line four' : `line ${i}`));
    expect(() => applyFilePatch(parsePatch(diff)[0]!, drifted)).toThrow(
      /ledger\.ts: hunk 1 \(@@ -2 \+2 @@\) no longer matches; it expects "line 2"/,
    );
  });

  it('refuses to create a file that exists or change one that does not', () => {
    const create = parsePatch(diffFiles('a.ts', undefined, 'x\n'))[0]!;
    expect(() => applyFilePatch(create, 'y\n')).toThrow(/already exists/);
    const modify = parsePatch(diffFiles('a.ts', 'x\n', 'y\n'))[0]!;
    expect(() => applyFilePatch(modify, undefined)).toThrow(/no such file/);
  });

  it('reads diffs written by git, with their extra header lines', () => {
    const git = [
      'diff --git a/app.ts b/app.ts',
      'index 1234567..89abcde 100644',
      '--- a/app.ts',
      '+++ b/app.ts',
      '@@ -1,2 +1,2 @@',
      ' keep',
      '-old',
      '+new',
      '',
    ].join('\n');
    const [file] = parsePatch(git);
    expect(file!.path).toBe('app.ts');
    expect(applyFilePatch(file!, 'keep\nold\n')).toBe('keep\nnew\n');
  });

  it('rejects a truncated hunk and a file with no final newline', () => {
    expect(() => parsePatch('--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n')).toThrow(PatchError);
    expect(() => diffFiles('x', 'a', 'b')).toThrow(/does not end with a newline/);
  });
});
