import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The kit's root folder (the one holding package.json). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LABS_DIR = resolve(ROOT, 'labs');
export const SOLUTIONS_DIR = resolve(ROOT, 'solutions');
/** Learners' own copies of labs live here, never in labs/. Override with LAB_WORK_DIR. */
export const WORK_DIR = resolve(process.env.LAB_WORK_DIR ?? resolve(ROOT, 'work'));
/** Harness scratch space: staged trees, results of runs. Git-ignored. */
export const STATE_DIR = resolve(ROOT, '.lab');
export const VITEST_CONFIG = resolve(ROOT, 'harness', 'vitest.config.ts');
export const VITEST_BIN = resolve(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
