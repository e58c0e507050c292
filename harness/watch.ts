/**
 * Watch mode: the same runner as every other run (runner.ts), kept open. Its Vitest instance, the
 * host pool and the containers stay warm; saving any file in the tree under test reruns the lab's
 * tests. The tree is loaded by service processes, not by Vitest, so this watches the files itself.
 * Saves during a run coalesce into one rerun after it.
 */
import { cpSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import type { Endpoints } from './endpoints.js';
import type { Lab } from './lab-schema.js';
import { LabRunner, type RunResult } from './runner.js';
import type { TestResult } from './runner.js';
import type { StagedTree } from './trees.js';
import { trace } from './trace.js';

export interface WatchHandle {
  /** Resolves when the first run has finished. */
  firstRun: Promise<void>;
  stop(): Promise<void>;
}

export interface WatchOptions {
  endpoints: Endpoints;
  onStart?: () => void;
  onTest?: (t: TestResult) => void;
  onResult: (r: RunResult) => void;
  /** A tree copied in from outside the kit: re-copied on every save. */
  origin?: string;
}

export async function watchLab(lab: Lab, tree: StagedTree, opts: WatchOptions): Promise<WatchHandle> {
  const runner = await LabRunner.open(lab, { endpoints: opts.endpoints });
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let savedAt = Date.now();
  const runOnce = async () => {
    opts.onStart?.();
    const r = await runner.run(tree, { onTest: opts.onTest });
    r.durationMs = Date.now() - savedAt;
    trace('result');
    if (!stopped) opts.onResult(r);
  };
  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = runOnce().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        kick();
      }
    });
  };
  let debounce: NodeJS.Timeout | undefined;
  const saved = () => {
    savedAt = Date.now();
    trace('save');
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      if (opts.origin) cpSync(opts.origin, tree.src, { recursive: true });
      kick();
    }, 30);
  };
  kick();
  const firstRun = running!;
  const watchers: FSWatcher[] = [fsWatch(opts.origin ?? tree.src, { recursive: true }, saved)];
  return {
    firstRun,
    stop: async () => {
      stopped = true;
      clearTimeout(debounce);
      watchers.forEach((w) => w.close());
      await running;
      await runner.close();
    },
  };
}
