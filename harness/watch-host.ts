/**
 * The Vitest process behind `lab watch`. It keeps one Vitest instance (and its module cache) alive
 * and reruns the lab's tests whenever the parent says a file in the tree under test was saved.
 * The parent watches the files itself: the tree is loaded by service processes, not by Vitest, so
 * Vitest's own watcher cannot know about it.
 */
import { createVitest } from 'vitest/node';
import { VITEST_CONFIG } from './paths.js';

const jsonFile = process.env.LAB_WATCH_JSON!;
const vitest = await createVitest('test', {
  config: VITEST_CONFIG,
  watch: true,
  reporters: process.env.LAB_WATCH_QUIET ? ['json'] : ['default', 'json'],
  outputFile: { json: jsonFile },
});
let running: Promise<unknown> = vitest.start();
let again = false;
process.on('message', (m: { type?: string }) => {
  if (m?.type !== 'rerun') return;
  if (again) return;
  again = true;
  running = running.finally(async () => {
    again = false;
    await vitest.rerunTestSpecifications(await vitest.getRelevantTestSpecifications(), true);
  });
});
process.on('disconnect', () => void vitest.close().finally(() => process.exit(0)));
process.on('SIGTERM', () => void vitest.close().finally(() => process.exit(0)));
