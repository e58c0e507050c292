import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The kit's root folder (the one holding the kit's package.json), found by walking up from this
 * module: the same answer whether it runs from harness/ as TypeScript or from the CLI's compiled
 * bundle in .lab/build/.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = resolve(dir, 'package.json');
    if (existsSync(pkg) && existsSync(resolve(dir, 'harness')) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'backend-labs') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the kit's root above ${from}`);
  }
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
export const LABS_DIR = resolve(ROOT, 'labs');
export const SOLUTIONS_DIR = resolve(ROOT, 'solutions');
/** Learners' own copies of labs live here, never in labs/. Override with LAB_WORK_DIR. */
export const WORK_DIR = resolve(process.env.LAB_WORK_DIR ?? resolve(ROOT, 'work'));
/** Harness scratch space: staged trees, compiled trees, the CLI's bundle. Git-ignored. */
export const STATE_DIR = resolve(ROOT, '.lab');
export const VITEST_CONFIG = resolve(ROOT, 'harness', 'vitest.config.ts');
export const VITEST_BIN = resolve(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

/** The kit's own folders: a learner's copies, reports or backups never go in (or at) one of them. */
const KIT_FOLDERS = ['labs', 'solutions', 'harness', 'docker', 'node_modules', '.lab', '.git', '.ci'].map((d) => resolve(ROOT, d));

/** Is `p` the folder `dir` or inside it? */
export function isInside(p: string, dir: string): boolean {
  const rel = relative(dir, resolve(p));
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

/**
 * Why `dir` may not hold a learner's copies or the kit's reports, or undefined when it may: the
 * kit's root itself, or one of its own folders (LAB_WORK_DIR=labs would make `lab reset` move the
 * kit's own lab away).
 */
export function kitFolderProblem(dir: string): string | undefined {
  const d = resolve(dir);
  if (d === ROOT) return `${d} is the kit's own folder`;
  const inside = KIT_FOLDERS.find((k) => isInside(d, k));
  return inside ? `${d} is inside the kit's own ${relative(ROOT, inside)}/` : undefined;
}

/**
 * `mkdir -p` that fails at once. Node's mkdirSync(…, { recursive: true }) never returns under /proc
 * (LAB_WORK_DIR=/proc/nope kept `lab start` at 75 % CPU for over 10 minutes): this makes each
 * missing level in turn, and the first that cannot be made throws, naming it.
 */
export function makeDir(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  while (!existsSync(d)) {
    missing.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  if (existsSync(d) && !statSync(d).isDirectory()) throw Object.assign(new Error(`${d} is a file, not a folder`), { code: 'ENOTDIR' });
  for (const m of missing) {
    try {
      mkdirSync(m);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw Object.assign(new Error(`cannot make ${m} (${code ?? (e as Error).message})`), { code });
    }
  }
}
