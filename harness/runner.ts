/**
 * The one mechanism that runs a lab's pristine tests against a tree: it spawns Vitest with the
 * kit's own config (harness/vitest.config.ts) and reads back one result per test.
 */
import { trace } from './trace.js';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Endpoints } from './containers.js';
import type { Lab } from './lab-schema.js';
import { ROOT, STATE_DIR, VITEST_BIN, VITEST_CONFIG } from './paths.js';
import { stageTree, type StagedTree, type TreeSpec } from './trees.js';

export interface TestResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  points: number;
  tier: 'core' | 'bonus';
  durationMs: number;
  failure?: string;
}

export interface RunResult {
  lab: string;
  tree: string;
  tests: TestResult[];
  /** Set when the run failed outside any test (setup, schema, a crash at import). */
  error?: string;
  durationMs: number;
}

export interface RunOptions {
  /** Servers to reuse; without them the run starts (and stops) its own. */
  endpoints?: Endpoints;
  /** 'inherit' streams Vitest's own report to the terminal; 'quiet' captures it. */
  output?: 'inherit' | 'quiet';
  reporter?: string;
  /** Only tests whose names match. */
  filter?: string;
  /** Kill the run after this long. */
  timeoutMs?: number;
  /** Extra environment for the Vitest process. */
  env?: Record<string, string>;
}

interface JsonAssertion {
  title: string;
  fullName: string;
  status: string;
  duration?: number;
  failureMessages?: string[];
  meta?: { points?: number; tier?: 'core' | 'bonus' };
}
interface JsonReport {
  testResults?: { name: string; status: string; message?: string; assertionResults: JsonAssertion[] }[];
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Builds the Vitest command line and environment for a lab run. Exported for the bench. */
export function vitestInvocation(lab: Lab, tree: StagedTree, opts: RunOptions, jsonFile: string) {
  const args = [
    VITEST_BIN,
    'run',
    '--config',
    VITEST_CONFIG,
    '--reporter',
    opts.reporter ?? 'default',
    '--reporter',
    'json',
    '--outputFile.json',
    jsonFile,
  ];
  if (opts.filter) args.push('--testNamePattern', opts.filter);
  const env: NodeJS.ProcessEnv = { ...process.env, LAB_SLUG: lab.slug, LAB_SRC: tree.src, ...opts.env };
  if (opts.endpoints) env.LAB_SERVICES = JSON.stringify(opts.endpoints);
  else delete env.LAB_SERVICES;
  return { args, env };
}

export async function runLabTests(lab: Lab, spec: TreeSpec | StagedTree, opts: RunOptions = {}): Promise<RunResult> {
  const tree = 'src' in spec ? spec : stageTree(lab, spec);
  const runDir = join(STATE_DIR, 'runs');
  mkdirSync(runDir, { recursive: true });
  const jsonFile = join(runDir, `${lab.id}-${randomBytes(4).toString('hex')}.json`);
  const { args, env } = vitestInvocation(lab, tree, opts, jsonFile);
  const t0 = Date.now();
  const quiet = opts.output === 'quiet';
  trace('vitest-spawn');
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
  });
  let captured = '';
  child.stdout?.on('data', (d: Buffer) => (captured = (captured + d.toString()).slice(-64 * 1024)));
  child.stderr?.on('data', (d: Buffer) => (captured = (captured + d.toString()).slice(-64 * 1024)));
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  let timedOut = false;
  const timer = opts.timeoutMs ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), opts.timeoutMs) : undefined;
  const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? 1)));
  if (timer) clearTimeout(timer);
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);

  let text = '';
  try {
    text = readFileSync(jsonFile, 'utf8');
  } catch {
    /* no report: setup failed before any test ran */
  }
  rmSync(jsonFile, { force: true });
  const result = parseReport(lab, tree.label, text, Date.now() - t0);
  if (timedOut) result.error = `the run was stopped after ${Math.round(opts.timeoutMs! / 1000)} s`;
  else if (code !== 0 && result.tests.every((t) => t.status !== 'failed') && !result.error)
    result.error = lastError(captured) ?? `vitest exited with code ${code}`;
  return result;
}

/** Reads a Vitest JSON report into one result per test. An empty or broken report yields no tests. */
export function parseReport(lab: Lab, label: string, text: string, durationMs: number): RunResult {
  const result: RunResult = { lab: lab.slug, tree: label, tests: [], durationMs };
  let report: JsonReport | undefined;
  try {
    report = text ? (JSON.parse(text) as JsonReport) : undefined;
  } catch {
    report = undefined;
  }
  for (const file of report?.testResults ?? []) {
    if (file.status === 'failed' && file.message && file.assertionResults.every((a) => a.status !== 'failed'))
      result.error = file.message.replace(ANSI, '');
    for (const a of file.assertionResults) {
      result.tests.push({
        name: a.title,
        status: a.status === 'passed' ? 'passed' : a.status === 'failed' ? 'failed' : 'skipped',
        points: a.meta?.points ?? 0,
        tier: a.meta?.tier ?? 'core',
        durationMs: Math.round(a.duration ?? 0),
        failure: a.failureMessages?.length ? a.failureMessages.join('\n').replace(ANSI, '').split('\n    at ')[0] : undefined,
      });
    }
  }
  return result;
}

function lastError(output: string): string | undefined {
  const text = output.replace(ANSI, '');
  const m = /(?:Error|error)[^\n]*:[^\n]*/.exec(text);
  return m?.[0];
}

/**
 * The lab's tests with their points, without running any (and without any server): Vitest
 * collects them and skips them all. Used to know the maximum score even when a run dies.
 */
export async function collectTests(lab: Lab): Promise<TestResult[]> {
  const r = await runLabTests(
    lab,
    { kind: 'starter' },
    { output: 'quiet', filter: '^__lab_collect_only__$', env: { LAB_COLLECT_ONLY: '1' } },
  );
  if (r.tests.length === 0) throw new Error(`could not collect the tests of ${lab.id}: ${r.error ?? 'none found'}`);
  return r.tests.map((t) => ({ ...t, status: 'skipped', durationMs: 0 }));
}
