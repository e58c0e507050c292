/**
 * A bare `vitest run` of one lab's tests (LAB_SLUG) against one tree (LAB_SRC), for the bench's
 * baseline and for debugging with Vitest's own reporters. The kit's commands never use this file:
 * runner.ts drives Vitest in process with the same options (labVitestOptions), and hands it the
 * servers and template itself instead of this globalSetup.
 */
import { defineConfig } from 'vitest/config';
import { join } from 'node:path';
import { findLab } from './lab-schema.js';
import { ROOT } from './paths.js';
import { labVitestOptions } from './runner.js';

const slug = process.env.LAB_SLUG;
const lab = slug ? findLab(slug) : undefined;

export default defineConfig({
  test: lab
    ? { ...labVitestOptions(lab), globalSetup: [join(ROOT, 'harness', 'global-setup.ts')] }
    : { root: ROOT, include: [], passWithNoTests: false },
});
