/**
 * Unified diffs, written and applied without git: variants are stored as `change.diff` over their
 * base tree (harness/trees.ts), and an author's edit is turned back into one (`lab dev variant`).
 *
 * Applying is strict. A hunk's context and removed lines must match the file exactly; the hunk may
 * only move (other lines were added or removed above it). Nothing is applied with fuzz, so a
 * variant whose base has changed under it fails loudly instead of staging a tree nobody wrote.
 */

export interface Hunk {
  oldStart: number;
  newStart: number;
  /** Each line with its marker: ' ' context, '-' removed, '+' added. */
  lines: string[];
}

export interface FilePatch {
  /** Path relative to the tree, with forward slashes. */
  path: string;
  /** The diff creates the file (--- /dev/null) or deletes it (+++ /dev/null). */
  op: 'modify' | 'create' | 'delete';
  hunks: Hunk[];
}

export class PatchError extends Error {}

const HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

function lines(text: string): string[] {
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new PatchError('the file does not end with a newline; add one');
  return text.slice(0, -1).split('\n');
}

function stripPath(p: string): string | null {
  const path = p.split('\t')[0]!.trim();
  if (path === '/dev/null') return null;
  return path.replace(/^[ab]\//, '');
}

/** Reads a unified diff (as `diff -u`, `git diff` or diffFiles write it) into per-file patches. */
export function parsePatch(text: string): FilePatch[] {
  const rows = text.split('\n');
  if (rows.at(-1) === '') rows.pop();
  const files: FilePatch[] = [];
  let i = 0;
  while (i < rows.length) {
    if (!rows[i]!.startsWith('--- ')) {
      i++;
      continue;
    }
    const from = stripPath(rows[i]!.slice(4));
    const plus = rows[i + 1];
    if (!plus?.startsWith('+++ ')) throw new PatchError(`line ${i + 2}: expected "+++ " after "${rows[i]}"`);
    const to = stripPath(plus.slice(4));
    const path = to ?? from;
    if (path === null) throw new PatchError(`line ${i + 1}: both sides are /dev/null`);
    const file: FilePatch = { path, op: from === null ? 'create' : to === null ? 'delete' : 'modify', hunks: [] };
    i += 2;
    while (i < rows.length && rows[i]!.startsWith('@@')) {
      const m = HEADER.exec(rows[i]!);
      if (!m) throw new PatchError(`line ${i + 1}: malformed hunk header "${rows[i]}"`);
      let oldLeft = m[2] === undefined ? 1 : Number(m[2]);
      let newLeft = m[4] === undefined ? 1 : Number(m[4]);
      const hunk: Hunk = { oldStart: Number(m[1]), newStart: Number(m[3]), lines: [] };
      i++;
      while (oldLeft > 0 || newLeft > 0) {
        const row = rows[i];
        if (row === undefined) throw new PatchError(`${path}: the diff ends inside a hunk`);
        const mark = row[0] ?? ' ';
        if (row.startsWith('\\')) throw new PatchError(`${path}: "${row}": every file must end with a newline`);
        if (mark === ' ' || row === '') {
          oldLeft--;
          newLeft--;
        } else if (mark === '-') oldLeft--;
        else if (mark === '+') newLeft--;
        else throw new PatchError(`line ${i + 1}: "${row}" is not a diff line`);
        if (oldLeft < 0 || newLeft < 0) throw new PatchError(`line ${i + 1}: the hunk is longer than its header says`);
        hunk.lines.push(row === '' ? ' ' : row);
        i++;
      }
      file.hunks.push(hunk);
    }
    if (file.hunks.length === 0 && file.op !== 'delete') throw new PatchError(`${path}: no hunks`);
    files.push(file);
  }
  return files;
}

function matchesAt(have: string[], want: string[], at: number): boolean {
  if (at < 0 || at + want.length > have.length) return false;
  for (let k = 0; k < want.length; k++) if (have[at + k] !== want[k]) return false;
  return true;
}

/**
 * Applies one file's hunks to its text (undefined: the file does not exist). Returns the new text,
 * or null when the patch deletes the file. Throws a PatchError naming the first hunk that does not fit.
 */
export function applyFilePatch(file: FilePatch, text: string | undefined): string | null {
  if (file.op === 'create' && text !== undefined) throw new PatchError(`${file.path}: the diff creates it, but it already exists`);
  if (file.op !== 'create' && text === undefined) throw new PatchError(`${file.path}: no such file to change`);
  const out = lines(text ?? '');
  let shift = 0;
  let floor = 0;
  file.hunks.forEach((h, n) => {
    const want = h.lines.filter((l) => l[0] !== '+').map((l) => l.slice(1));
    const put = h.lines.filter((l) => l[0] !== '-').map((l) => l.slice(1));
    // "-N,0" inserts after line N; otherwise the hunk starts at line N.
    const base = want.length === 0 ? h.oldStart : h.oldStart - 1;
    const expected = base + shift;
    let at = -1;
    for (let d = 0; d <= out.length; d++) {
      if (expected - d >= floor && matchesAt(out, want, expected - d)) {
        at = expected - d;
        break;
      }
      if (expected + d >= floor && matchesAt(out, want, expected + d)) {
        at = expected + d;
        break;
      }
    }
    if (at < 0) {
      const header = `@@ -${h.oldStart} +${h.newStart} @@`;
      const first = want.find((l) => l.trim() !== '') ?? '';
      throw new PatchError(`${file.path}: hunk ${n + 1} (${header}) no longer matches; it expects "${first.trim()}"`);
    }
    out.splice(at, want.length, ...put);
    shift = at - base + (put.length - want.length);
    floor = at + put.length;
  });
  if (file.op === 'delete') {
    if (out.length) throw new PatchError(`${file.path}: the diff deletes it, but lines would remain`);
    return null;
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** The longest common subsequence of two line lists, as pairs of indices. */
function commonLines(a: string[], b: string[]): Array<[number, number]> {
  const n = a.length;
  const m = b.length;
  const len: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) len[i]![j] = a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  const pairs: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      pairs.push([i++, j++]);
    } else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/**
 * A unified diff of one file, `context` lines around each change; '' when the texts are equal.
 * `before` undefined: a new file; `after` undefined: a deleted one.
 */
export function diffFiles(path: string, before: string | undefined, after: string | undefined, context = 3): string {
  if (before === after) return '';
  const a = lines(before ?? '');
  const b = lines(after ?? '');
  // Script of edits: walk both lists along their common lines.
  type Op = { mark: ' ' | '-' | '+'; text: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  for (const [ci, cj] of [...commonLines(a, b), [a.length, b.length] as [number, number]]) {
    while (i < ci) ops.push({ mark: '-', text: a[i]!, ai: i++, bi: j });
    while (j < cj) ops.push({ mark: '+', text: b[j]!, ai: i, bi: j++ });
    if (ci < a.length) ops.push({ mark: ' ', text: a[i]!, ai: i++, bi: j++ });
  }
  const changed = ops.map((o, k) => (o.mark !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  const out = [`--- ${before === undefined ? '/dev/null' : `a/${path}`}`, `+++ ${after === undefined ? '/dev/null' : `b/${path}`}`];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - context);
    let end = changed[k]!;
    while (k < changed.length && changed[k]! <= end + 2 * context) end = changed[k++]!;
    end = Math.min(ops.length - 1, end + context);
    const hunk = ops.slice(start, end + 1);
    const oldCount = hunk.filter((o) => o.mark !== '+').length;
    const newCount = hunk.filter((o) => o.mark !== '-').length;
    const oldStart = oldCount ? hunk[0]!.ai + 1 : hunk[0]!.ai;
    const newStart = newCount ? hunk[0]!.bi + 1 : hunk[0]!.bi;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const o of hunk) out.push(o.mark + o.text);
  }
  return out.join('\n') + '\n';
}
