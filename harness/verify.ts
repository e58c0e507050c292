/**
 * `lab verify`: proves a lab's tests against its reference trees.
 *   - the starter fails exactly the tests lab.json's starter.fails names, and passes the rest;
 *   - the solution passes every test;
 *   - every variant in solutions/X/variants behaves as its variant.json says (alternatives pass,
 *     decoys fail what they must);
 *   - every test declares its points and an id of its own.
 * lab.json and variant.json name tests by id; problems quote a test's sentence too, for people.
 */
import { TestId, type Lab } from './lab-schema.js';
import { gatedPool, pool } from './jobs.js';
import type { RunnerSet, RunResult, TestResult } from './runner.js';
import type { TreeSpec } from './trees.js';
import { readVariant, variantsOf } from './variants.js';

export interface Check {
  lab: string;
  tree: string;
  round: number;
  ok: boolean;
  problems: string[];
  durationMs: number;
}

/** What a run must show. Tests are named by id. */
export interface Expectation {
  /** Tests that must fail, every run. */
  mustFail: string[];
  /** Tests that may pass or fail (an alternative's missed bonus). */
  mayFail?: string[];
  /** The other tests: 'pass' (starter, solution, alternatives), or 'any' (a decoy: only what it must fail is certain). */
  rest: 'pass' | 'any';
}

/** A test as a problem quotes it: the sentence people read, and the id lab.json and variant.json use. */
const quote = (t: TestResult) => `"${t.name}"${t.id === undefined ? '' : ` (${t.id})`}`;

/** Compares a run with what was expected of it. Pure, unit-tested. */
export function judge(run: RunResult, expect: Expectation): string[] {
  const problems: string[] = [];
  if (run.error) problems.push(`the run failed outside the tests: ${run.error.split('\n')[0]}`);
  if (run.tests.length === 0) return problems.length ? problems : ['no test ran'];
  const byId = new Map<string, TestResult>();
  for (const t of run.tests) {
    if (!(t.points > 0)) problems.push(`${quote(t)} declares no points`);
    if (t.id === undefined) {
      problems.push(`${quote(t)} declares no id: give it one beside its points, e.g. points(3, { id: 'storm' })`);
      continue;
    }
    const bad = TestId.safeParse(t.id).error;
    if (bad) problems.push(`${quote(t)}: ${bad.issues[0]!.message}`);
    else if (byId.has(t.id)) problems.push(`two tests have the id "${t.id}": "${byId.get(t.id)!.name}" and "${t.name}"`);
    else byId.set(t.id, t);
  }
  const declared = [...expect.mustFail, ...(expect.mayFail ?? [])];
  for (const id of declared) if (!byId.has(id)) problems.push(`"${id}" is declared but no test has that id`);
  for (const id of expect.mustFail) {
    const t = byId.get(id);
    if (t && t.status !== 'failed') problems.push(`should fail but ${t.status}: ${quote(t)}`);
  }
  if (expect.rest === 'pass')
    for (const t of run.tests)
      if (t.status !== 'passed' && !(t.id !== undefined && declared.includes(t.id)))
        problems.push(`should pass but ${t.status}: ${quote(t)}${t.failure ? `\n      ${t.failure.split('\n')[0]}` : ''}`);
  return problems;
}

export interface VerifyOptions {
  repeat: number;
  variants: boolean;
  /** Trees run at once, each by its own runner over the same servers: at most, or exactly when `fixedJobs`. */
  jobs: number;
  /** Run exactly `jobs` at once; otherwise the CPU decides, up to `jobs` (gatedPool). */
  fixedJobs?: boolean;
  /** Runners shared by every lab of the command (they bring their own hosts). */
  runners: RunnerSet;
  /** Run every tree as `lab grade` runs a submission, in a grading sandbox (runner.ts RunOptions.sandbox). */
  sandbox?: boolean;
  onCheck?: (c: Check) => void;
}

type Task = { tree: TreeSpec; round: number; expect: Expectation };

/** Every tree of the lab, `jobs` at a time: trees that mostly wait overlap their waits. */
export async function verifyLab(lab: Lab, opts: VerifyOptions): Promise<Check[]> {
  const tasks: Task[] = [];
  // Every round runs every tree: a decoy must fail what it must on every run, not once.
  const variants = opts.variants ? variantsOf(lab).map((name) => ({ name, v: readVariant(lab, name) })) : [];
  for (let round = 1; round <= opts.repeat; round++) {
    tasks.push({ tree: { kind: 'starter' }, round, expect: { mustFail: lab.starter.fails, rest: 'pass' } });
    tasks.push({ tree: { kind: 'solution' }, round, expect: { mustFail: [], rest: 'pass' } });
    for (const { name, v } of variants)
      tasks.push({
        tree: { kind: 'variant', name },
        round,
        expect: { mustFail: v.mustFail, mayFail: v.mayFail, rest: v.kind === 'alternative' ? 'pass' : 'any' },
      });
  }
  const each = (task: Task) =>
    opts.runners.use(lab, async (runner) => {
      const r = await runner.run(task.tree, { timeoutMs: 10 * 60_000, sandbox: opts.sandbox });
      const problems = judge(r, task.expect);
      const c: Check = { lab: lab.slug, tree: r.tree, round: task.round, ok: problems.length === 0, problems, durationMs: r.durationMs };
      opts.onCheck?.(c);
      return c;
    });
  return opts.fixedJobs ? pool(tasks, opts.jobs, each) : gatedPool(tasks, { max: opts.jobs }, each);
}
