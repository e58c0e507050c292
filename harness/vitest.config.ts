/**
 * The one Vitest configuration for running a lab's pristine tests (labs/X/test) against any
 * source tree, chosen by LAB_SRC. Used by `lab test`, `lab verify` and `lab grade` alike.
 */
import { defineConfig } from 'vitest/config';
import { join, relative } from 'node:path';
import { findLab } from './lab-schema.js';
import { ROOT } from './paths.js';

const slug = process.env.LAB_SLUG;
const lab = slug ? findLab(slug) : undefined;
const src = process.env.LAB_SRC ?? lab?.srcDir;

export default defineConfig({
  root: ROOT,
  test: {
    include: lab ? [join(relative(ROOT, lab.testDir), '**/*.test.ts')] : [],
    globalSetup: [join(ROOT, 'harness', 'global-setup.ts')],
    setupFiles: process.env.LAB_TRACE ? [join(ROOT, 'harness', 'trace-setup.ts')] : [],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    // A service's source is loaded in its own processes, not in Vitest's module graph:
    // tell watch mode that saving any file in the tree under test means "run again".
    forceRerunTriggers: src ? [join(src, '**/*')] : [],
    passWithNoTests: false,
    allowOnly: false,
  },
});
