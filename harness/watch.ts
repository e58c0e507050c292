/**
 * Watch mode: one long-lived Vitest process (watch-host.ts), fed warm containers by the caller.
 * Saving any file in the tree under test reruns the lab's tests; after every run the JSON report is
 * read back and handed to onResult.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Endpoints } from './containers.js';
import type { Lab } from './lab-schema.js';
import { ROOT, STATE_DIR } from './paths.js';
import { parseReport, vitestInvocation, type RunResult } from './runner.js';
import type { StagedTree } from './trees.js';
import { trace } from './trace.js';

export interface WatchHandle {
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface WatchOptions {
  endpoints: Endpoints;
  onResult: (r: RunResult) => void;
  output?: 'inherit' | 'quiet';
  /** A tree copied in from outside the kit: re-copied on every save. */
  origin?: string;
}

const mtime = (p: string) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
};

export function watchLab(lab: Lab, tree: StagedTree, opts: WatchOptions): WatchHandle {
  mkdirSync(join(STATE_DIR, 'runs'), { recursive: true });
  const jsonFile = join(STATE_DIR, 'runs', `${lab.id}-watch-${process.pid}.json`);
  rmSync(jsonFile, { force: true });
  const { env } = vitestInvocation(lab, tree, { endpoints: opts.endpoints }, jsonFile);
  const quiet = opts.output === 'quiet';
  const child = fork(join(ROOT, 'harness', 'watch-host.ts'), [], {
    cwd: ROOT,
    env: { ...env, LAB_WATCH_JSON: jsonFile, ...(quiet ? { LAB_WATCH_QUIET: '1' } : {}) },
    execArgv: ['--import', 'tsx'],
    stdio: quiet ? ['ignore', 'ignore', 'ignore', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let savedAt = Date.now();
  let debounce: NodeJS.Timeout | undefined;
  const saved = () => {
    savedAt = Date.now();
    trace('save');
    if (opts.origin) cpSync(opts.origin, tree.src, { recursive: true });
    clearTimeout(debounce);
    debounce = setTimeout(() => child.connected && child.send({ type: 'rerun' }), 30);
  };
  let seen = 0;
  // The JSON reporter rewrites its file at the end of every run.
  const poll = setInterval(() => {
    const m = mtime(jsonFile);
    if (m <= seen) return;
    seen = m;
    const r = parseReport(lab, tree.label, readFileSync(jsonFile, 'utf8'), Date.now() - savedAt);
    if (r.tests.length === 0 && !r.error)
      seen = 0; // half-written: read it again on the next tick
    else {
      trace('result');
      opts.onResult(r);
    }
  }, 25);
  const watchers: FSWatcher[] = [fsWatch(opts.origin ?? tree.src, { recursive: true }, saved)];
  return {
    child,
    stop: async () => {
      clearInterval(poll);
      watchers.forEach((w) => w.close());
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(jsonFile, { force: true });
    },
  };
}
