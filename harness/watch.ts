/**
 * Watch mode: one Vitest process in watch mode, fed warm containers by the caller. Saving any file
 * in the tree under test reruns the lab's tests (vitest.config.ts declares the tree as a rerun
 * trigger); after every run the JSON report is read back and handed to onResult.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Endpoints } from './containers.js';
import type { Lab } from './lab-schema.js';
import { ROOT, STATE_DIR } from './paths.js';
import { parseReport, vitestInvocation, type RunResult } from './runner.js';
import type { StagedTree } from './trees.js';

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
  const { args, env } = vitestInvocation(lab, tree, { endpoints: opts.endpoints }, jsonFile);
  args[args.indexOf('run')] = 'watch';
  const quiet = opts.output === 'quiet';
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: quiet ? ['pipe', 'ignore', 'ignore'] : 'inherit' });
  let savedAt = Date.now();
  let seen = 0;
  // The JSON reporter rewrites its file at the end of every run.
  const poll = setInterval(() => {
    const m = mtime(jsonFile);
    if (m <= seen) return;
    seen = m;
    try {
      opts.onResult(parseReport(lab, tree.label, readFileSync(jsonFile, 'utf8'), Date.now() - savedAt));
    } catch {
      seen = 0; // half-written: read it again on the next tick
    }
  }, 25);
  const watchers: FSWatcher[] = [];
  if (opts.origin)
    watchers.push(
      fsWatch(opts.origin, { recursive: true }, () => {
        savedAt = Date.now();
        cpSync(opts.origin!, tree.src, { recursive: true });
      }),
    );
  else watchers.push(fsWatch(tree.src, { recursive: true }, () => (savedAt = Date.now())));
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
