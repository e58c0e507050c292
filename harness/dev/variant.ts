/**
 * Variants as small diffs over their base (the starter or the reference solution).
 *
 * A variant folder holds variant.json, change.diff and, only where the variant really is a
 * rewrite, whole files, each with its reason in variant.json's "whole". `editVariant` stages a
 * variant as an ordinary folder an author can edit; `saveVariant` turns that folder back into a
 * diff over the base (plus the whole files it keeps), so a fix to the solution reaches every
 * variant laid over it, and a variant that no longer applies fails when it is staged.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Lab } from '../lab-schema.js';
import { LabError } from '../errors.js';
import { diffFiles } from '../patch.js';
import { STATE_DIR } from '../paths.js';
import { CHANGE_DIFF, filesUnder, NOT_SOURCE, stageTree } from '../trees.js';
import { readVariant } from '../variants.js';

export function variantDir(lab: Lab, name: string): string {
  const dir = join(lab.solutionDir, 'variants', name);
  if (!existsSync(join(dir, 'variant.json')))
    throw new LabError(`${lab.id} has no variant "${name}" (no ${relative(process.cwd(), dir)}/variant.json)`);
  return dir;
}

/** The src folder a variant's change is written over. */
export function baseSrc(lab: Lab, name: string): { base: string; src: string } {
  const base = readVariant(lab, name).base;
  if (base === 'starter') return { base, src: lab.srcDir };
  if (base === 'solution') return { base, src: stageTree(lab, { kind: 'solution' }).src };
  return { base: base.replace(':', ' '), src: stageTree(lab, { kind: 'variant', name: base.slice('variant:'.length) }).src };
}

/** The variant's own source files in its folder: the whole files it keeps. */
export function wholeFilesOf(dir: string): string[] {
  return filesUnder(dir).filter((f) => !NOT_SOURCE.has(f.split('/')[0]!));
}

/** Where `lab dev variant` puts a variant's tree for editing. */
export function editDir(lab: Lab, name: string): string {
  return join(STATE_DIR, 'dev', lab.id, name, 'src');
}

/** Stages the variant's whole tree into editDir (replacing an earlier, unsaved one only if `force`). */
export function editVariant(lab: Lab, name: string, force = false): string {
  variantDir(lab, name);
  const dest = editDir(lab, name);
  if (existsSync(dest) && !force)
    throw new LabError(
      `${relative(process.cwd(), dest)} already holds an edit of ${name}: save it with --save, or start over with --force`,
    );
  const staged = stageTree(lab, { kind: 'variant', name }).src;
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  cpSync(staged, dest, { recursive: true });
  return dest;
}

export interface SavedVariant {
  diffLines: number;
  whole: string[];
  files: number;
}

/**
 * Writes `edited` (a full src tree) back as the variant: change.diff over the base for every file
 * that differs, except the files named in `whole` (path → reason), which are kept as whole files.
 * variant.json's "whole" is rewritten to match; its other keys are left as they are.
 */
export function saveVariant(lab: Lab, name: string, edited: string, whole: Record<string, string>): SavedVariant {
  const dir = variantDir(lab, name);
  const { src: base } = baseSrc(lab, name);
  const paths = [...new Set([...filesUnder(base), ...filesUnder(edited)])].sort();
  const read = (root: string, p: string) => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : undefined);
  let diff = '';
  const kept: string[] = [];
  let changed = 0;
  for (const p of paths) {
    const before = read(base, p);
    const after = read(edited, p);
    if (before === after) continue;
    changed++;
    if (whole[p] !== undefined && after !== undefined) kept.push(p);
    else diff += diffFiles(p, before, after);
  }
  for (const w of Object.keys(whole))
    if (!kept.includes(w)) throw new LabError(`"whole" names ${w}, but the edited tree does not change it`);
  for (const f of wholeFilesOf(dir)) rmSync(join(dir, f));
  for (const p of kept) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    cpSync(join(edited, p), join(dir, p));
  }
  if (diff) writeFileSync(join(dir, CHANGE_DIFF), diff);
  else rmSync(join(dir, CHANGE_DIFF), { force: true });
  setWhole(join(dir, 'variant.json'), Object.fromEntries(kept.map((p) => [p, whole[p]!])));
  return { diffLines: diff ? diff.split('\n').length - 1 : 0, whole: kept, files: changed };
}

/** Rewrites only variant.json's "whole" key, keeping the rest of the file's text as it is. */
function setWhole(file: string, whole: Record<string, string>): void {
  const before = readFileSync(file, 'utf8');
  let text = before.replace(/\n  "whole": \{\n(?: {4}[^\n]*\n)* {2}\},?\n/, '\n');
  const entries = Object.entries(whole);
  if (entries.length) {
    // After the "base" line if there is one, else after "kind": never the last key, so a comma follows.
    const anchor = /\n  "base": [^\n]*\n/.exec(text) ?? /\n  "kind": [^\n]*\n/.exec(text);
    if (!anchor) throw new LabError(`${file}: has neither "base" nor "kind" to place "whole" after`);
    const at = anchor.index + anchor[0].length;
    const block = `  "whole": {\n${entries.map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n')}\n  },\n`;
    text = text.slice(0, at) + block + text.slice(at);
  }
  const parsed = JSON.parse(text) as { whole?: Record<string, string> };
  if (JSON.stringify(parsed.whole ?? {}) !== JSON.stringify(whole))
    throw new LabError(`${file}: could not rewrite its "whole" key; edit it by hand`);
  if (text !== before) writeFileSync(file, text);
}
