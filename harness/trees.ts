/**
 * The trees a lab's pristine tests can run against. Tests always come from labs/X/test; only the
 * service source (src/) varies:
 *   starter   labs/X/src as shipped
 *   solution  the starter with solutions/X/* laid over it (solutions mirror src/ paths)
 *   variant   the starter with solutions/X/variants/NAME/* laid over it (alternatives and decoys)
 *   learner   the learner's copy, WORK_DIR/X/src
 *   dir       a folder someone submitted: DIR/src (or DIR itself if it holds app.ts)
 * Trees outside the kit are copied into .lab/trees first, so their imports resolve against the
 * kit's node_modules. Only src/ is ever taken from a submitted folder.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative, resolve, sep } from 'node:path';
import type { Lab } from './lab-schema.js';
import { LabError } from './lab-schema.js';
import { kitFolderProblem, ROOT, STATE_DIR, WORK_DIR } from './paths.js';

export type TreeSpec =
  { kind: 'starter' } | { kind: 'solution' } | { kind: 'variant'; name: string } | { kind: 'learner' } | { kind: 'dir'; dir: string };

export interface StagedTree {
  /** The src folder to load the service from. */
  src: string;
  /** Human label: "starter", "solution", "your copy (work/01-deadlocks)", … */
  label: string;
}

/** Files in a solution folder that are documentation, not source. */
const NOT_SOURCE = new Set(['NOTES.md', 'variants', 'variant.json']);

/** Copies the starter, then lays each layer's source files over it, in order. */
function overlay(lab: Lab, name: string, layers: string[]): string {
  const dest = join(STATE_DIR, 'trees', name, lab.id, 'src');
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  cpSync(lab.srcDir, dest, { recursive: true });
  for (const from of layers)
    for (const entry of readdirSync(from)) {
      if (NOT_SOURCE.has(entry)) continue;
      cpSync(join(from, entry), join(dest, entry), { recursive: true });
    }
  return dest;
}

/** A variant is laid over the starter, or over the solution when its variant.json says "base": "solution". */
function variantBase(dir: string): 'starter' | 'solution' {
  try {
    return JSON.parse(readFileSync(join(dir, 'variant.json'), 'utf8')).base === 'solution' ? 'solution' : 'starter';
  } catch {
    return 'starter';
  }
}

function insideKit(p: string): boolean {
  const rel = relative(ROOT, p);
  return !rel.startsWith('..') && !rel.startsWith(sep) && !rel.split(sep).includes('node_modules');
}

export function learnerDir(lab: Lab): string {
  const problem = kitFolderProblem(WORK_DIR);
  if (problem) throw new LabError(`LAB_WORK_DIR: ${problem}; your copies need a folder of their own (the default is work/)`);
  return join(WORK_DIR, lab.id);
}

export function variantsOf(lab: Lab): string[] {
  const dir = join(lab.solutionDir, 'variants');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => statSync(join(dir, d)).isDirectory())
    .sort();
}

export function stageTree(lab: Lab, spec: TreeSpec): StagedTree {
  switch (spec.kind) {
    case 'starter':
      return { src: lab.srcDir, label: 'starter' };
    case 'solution':
      if (!existsSync(lab.solutionDir)) throw new LabError(`${lab.id} has no reference solution in solutions/${lab.id}`);
      return { src: overlay(lab, 'solution', [lab.solutionDir]), label: 'solution' };
    case 'variant': {
      const dir = join(lab.solutionDir, 'variants', spec.name);
      if (!existsSync(dir)) throw new LabError(`${lab.id} has no variant "${spec.name}"`);
      const layers = variantBase(dir) === 'solution' ? [lab.solutionDir, dir] : [dir];
      return { src: overlay(lab, `variant-${spec.name}`, layers), label: `variant ${spec.name}` };
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
