/**
 * The trees a lab's pristine tests can run against. Tests always come from labs/X/test; only the
 * service source (src/) varies:
 *   starter   labs/X/src as shipped
 *   solution  the starter with solutions/X/* laid over it (solutions mirror src/ paths)
 *   variant   the starter, or the solution, with solutions/X/variants/NAME/change.diff applied
 *             (and any whole files it keeps laid over first): alternatives and decoys
 *   learner   the learner's copy, WORK_DIR/X/src
 *   dir       a folder someone submitted: DIR/src (or DIR itself if it holds app.ts)
 * Trees outside the kit are copied into .lab/trees first, so their imports resolve against the
 * kit's node_modules. Only src/ is ever taken from a submitted folder.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative, resolve, sep } from 'node:path';
import type { Lab } from './lab-schema.js';
import { LabError } from './errors.js';
import { applyFilePatch, parsePatch, PatchError } from './patch.js';
import { readVariant } from './variants.js';
import { kitFolderProblem, makeDir, ROOT, STATE_DIR, WORK_DIR } from './paths.js';

export type TreeSpec =
  { kind: 'starter' } | { kind: 'solution' } | { kind: 'variant'; name: string } | { kind: 'learner' } | { kind: 'dir'; dir: string };

export interface StagedTree {
  /** The src folder to load the service from. */
  src: string;
  /** Human label: "starter", "solution", "your copy (work/01-deadlocks)", … */
  label: string;
}

/** A variant's change over its base, as a unified diff with paths relative to src/. */
export const CHANGE_DIFF = 'change.diff';

/** Files in a solution folder that are not source to lay over the starter. */
export const NOT_SOURCE = new Set(['NOTES.md', 'variants', 'variant.json', CHANGE_DIFF]);

/**
 * Copies the starter, then lays each layer's source files over it, in order. A layer's
 * change.diff is applied after its whole files; `what` names the layer in the error when it no
 * longer applies.
 */
function overlay(lab: Lab, name: string, layers: Layer[]): string {
  const dest = join(STATE_DIR, 'trees', name, lab.id, 'src');
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  cpSync(lab.srcDir, dest, { recursive: true });
  for (const { dir, what, onto } of layers) {
    for (const entry of readdirSync(dir)) {
      if (NOT_SOURCE.has(entry)) continue;
      cpSync(join(dir, entry), join(dest, entry), { recursive: true });
    }
    const diff = join(dir, CHANGE_DIFF);
    if (existsSync(diff)) applyTreePatch(dest, readFileSync(diff, 'utf8'), `${what} no longer applies to the ${onto}`);
  }
  return dest;
}

/** Applies a unified diff to the files under `dir`; a hunk that does not fit throws a LabError led by `context`. */
export function applyTreePatch(dir: string, diff: string, context: string): void {
  try {
    for (const file of parsePatch(diff)) {
      const target = join(dir, ...file.path.split('/'));
      const rel = relative(dir, target);
      if (rel.startsWith('..') || rel.startsWith(sep)) throw new PatchError(`${file.path}: outside the tree`);
      const result = applyFilePatch(file, existsSync(target) ? readFileSync(target, 'utf8') : undefined);
      if (result === null) rmSync(target);
      else {
        mkdirSync(join(target, '..'), { recursive: true });
        writeFileSync(target, result);
      }
    }
  } catch (e) {
    if (e instanceof PatchError) throw new LabError(`${context}: ${e.message}`);
    throw e;
  }
}

function insideKit(p: string): boolean {
  const rel = relative(ROOT, p);
  return !rel.startsWith('..') && !rel.startsWith(sep) && !rel.split(sep).includes('node_modules');
}

/** A learner's copy of a lab: its starter src/ and its README, in `dest` (which must not hold a copy). */
export function copyStarter(lab: Lab, dest: string): void {
  try {
    makeDir(dest);
  } catch (e) {
    throw new LabError(`cannot make a copy of ${lab.slug} in ${dest}: ${(e as Error).message}`);
  }
  cpSync(lab.srcDir, join(dest, 'src'), { recursive: true });
  cpSync(join(lab.dir, 'README.md'), join(dest, 'README.md'));
}

/** Every file under dir, as forward-slash paths relative to it, sorted. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

export function learnerDir(lab: Lab): string {
  const problem = kitFolderProblem(WORK_DIR);
  if (problem) throw new LabError(`LAB_WORK_DIR: ${problem}; your copies need a folder of their own (the default is work/)`);
  return join(WORK_DIR, lab.id);
}

type Layer = { dir: string; what: string; onto: string };

/** The layers a variant is staged from, over the starter: its base's, then its own. */
function variantLayers(lab: Lab, name: string, seen: string[] = []): Layer[] {
  const dir = join(lab.solutionDir, 'variants', name);
  if (!existsSync(dir))
    throw new LabError(`${lab.id} has no variant "${name}"${seen.length ? ` (the base of variant ${seen.at(-1)})` : ''}`);
  if (seen.includes(name)) throw new LabError(`variant ${name} is its own base (${[...seen, name].join(' → ')})`);
  const base = readVariant(lab, name).base;
  const self = { dir, what: `variant ${name}`, onto: base.replace(':', ' ') };
  if (base === 'starter') return [self];
  if (base === 'solution') return [{ dir: lab.solutionDir, what: 'the solution', onto: 'starter' }, self];
  return [...variantLayers(lab, base.slice('variant:'.length), [...seen, name]), self];
}

export function stageTree(lab: Lab, spec: TreeSpec): StagedTree {
  switch (spec.kind) {
    case 'starter':
      return { src: lab.srcDir, label: 'starter' };
    case 'solution':
      if (!existsSync(lab.solutionDir)) throw new LabError(`${lab.id} has no reference solution in solutions/${lab.id}`);
      return { src: overlay(lab, 'solution', [{ dir: lab.solutionDir, what: 'the solution', onto: 'starter' }]), label: 'solution' };
    case 'variant': {
      return { src: overlay(lab, `variant-${spec.name}`, variantLayers(lab, spec.name)), label: `variant ${spec.name}` };
    }
    case 'learner': {
      const dir = learnerDir(lab);
      if (!existsSync(join(dir, 'src')))
        throw new LabError(
          `you have no copy of ${lab.slug} yet: run \`lab start ${lab.slug}\` first (or test the reference trees with --starter / --solution)`,
        );
      return stageDir(lab, dir, `your copy (${relative(process.cwd(), dir) || dir})`);
    }
    case 'dir':
      return stageDir(lab, resolve(spec.dir), `submission ${spec.dir}`);
  }
}

function stageDir(lab: Lab, dir: string, label: string): StagedTree {
  const src = existsSync(join(dir, 'src', 'app.ts')) ? join(dir, 'src') : existsSync(join(dir, 'app.ts')) ? dir : undefined;
  if (!src) throw new LabError(`${dir} holds no src/app.ts: point at a copy of ${lab.id}`);
  if (insideKit(src)) return { src, label };
  const key = createHash('sha256').update(src).digest('hex').slice(0, 12);
  const dest = join(STATE_DIR, 'trees', `dir-${key}`, lab.id, 'src');
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  cpSync(src, dest, { recursive: true, filter: (p) => !p.split(sep).includes('node_modules') });
  return { src: dest, label };
}
