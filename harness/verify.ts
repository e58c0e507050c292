/**
 * `lab verify`: proves a lab's tests against its reference trees.
 *   - the starter fails exactly the tests lab.json declares, and passes the rest;
 *   - the solution passes every test;
 *   - every variant in solutions/X/variants behaves as its variant.json says (alternatives pass,
 *     decoys fail what they must);
 *   - every test declares its points.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Lab } from './lab-schema.js';
import { gatedPool, pool } from './jobs.js';
import type { RunnerSet, RunResult } from './runner.js';
import { variantsOf, type TreeSpec } from './trees.js';

export const VariantJson = z
  .object({
    kind: z.enum(['alternative', 'decoy']),
    description: z.string().min(10),
    /** What the variant's files are laid over: the starter (default) or the reference solution. */
    base: z.enum(['starter', 'solution']).default('starter'),
    /** A decoy: the tests it must fail, every run (list only failures that are certain). */
    mustFail: z.array(z.string()).default([]),
    /** An alternative: tests it may miss (e.g. a bonus for a different trade-off). Every other test must pass. */
    mayFail: z.array(z.string()).default([]),
  })
  .strict()
  .refine((v) => v.kind === 'alternative' || v.mustFail.length > 0, 'a decoy must name at least one test it fails')
  .refine((v) => v.kind === 'decoy' || v.mustFail.length === 0, 'an alternative fails nothing for sure: list what it may miss in mayFail')
  .refine((v) => v.kind === 'alternative' || v.mayFail.length === 0, 'mayFail is for alternatives');
export type VariantJson = z.infer<typeof VariantJson>;

export function readVariant(lab: Lab, name: string): VariantJson {
  const file = join(lab.solutionDir, 'variants', name, 'variant.json');
  if (!existsSync(file)) throw new Error(`${lab.id} variant ${name} has no variant.json`);
  return VariantJson.parse(JSON.parse(readFileSync(file, 'utf8')));
}

export interface Check {
  lab: string;
  tree: string;
  round: number;
  ok: boolean;
  problems: string[];
  durationMs: number;
}

/** Compares a run with what was expected of it. Pure, unit-tested. */
export function judge(
  run: RunResult,
  expect: { mustFail: string[]; mustPass: string[] | 'rest'; exact: boolean; mayFail?: string[] },
): string[] {
  const problems: string[] = [];
  if (run.error) problems.push(`the run failed outside the tests: ${run.error.split('\n')[0]}`);
  if (run.tests.length === 0) return problems.length ? problems : ['no test ran'];
  const byName = new Map(run.tests.map((t) => [t.name, t]));
  if (byName.size !== run.tests.length) problems.push('two tests share a name: names identify tests in lab.json');
  for (const t of run.tests) if (!(t.points > 0)) problems.push(`"${t.name}" declares no points`);
  const mayFail = expect.mayFail ?? [];
  const named = new Set([...expect.mustFail, ...mayFail, ...(expect.mustPass === 'rest' ? [] : expect.mustPass)]);
  for (const n of named) if (!byName.has(n)) problems.push(`"${n}" is declared but no such test ran`);
  for (const n of expect.mustFail) {
    const t = byName.get(n);
    if (t && t.status !== 'failed') problems.push(`should fail but ${t.status}: "${n}"`);
  }
  const mustPass =
    expect.mustPass === 'rest'
      ? run.tests.map((t) => t.name).filter((n) => !expect.mustFail.includes(n) && !mayFail.includes(n))
      : expect.mustPass;
  for (const n of mustPass) {
    const t = byName.get(n);
    if (t && t.status !== 'passed')
      problems.push(`should pass but ${t.status}: "${n}"${t.failure ? `\n      ${t.failure.split('\n')[0]}` : ''}`);
  }
  if (expect.exact)
    for (const t of run.tests)
      if (!named.has(t.name)) problems.push(`"${t.name}" is not declared in lab.json starter.fails or starter.passes`);
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
  onCheck?: (c: Check) => void;
}

type Task = { tree: TreeSpec; round: number; expect: Parameters<typeof judge>[1] };

/** Every tree of the lab, `jobs` at a time: trees that mostly wait overlap their waits. */
export async function verifyLab(lab: Lab, opts: VerifyOptions): Promise<Check[]> {
  const tasks: Task[] = [];
  // Every round runs every tree: a decoy must fail what it must on every run, not once.
  const variants = opts.variants ? variantsOf(lab).map((name) => ({ name, v: readVariant(lab, name) })) : [];
  for (let round = 1; round <= opts.repeat; round++) {
    tasks.push({ tree: { kind: 'starter' }, round, expect: { mustFail: lab.starter.fails, mustPass: lab.starter.passes, exact: true } });
    tasks.push({ tree: { kind: 'solution' }, round, expect: { mustFail: [], mustPass: 'rest', exact: false } });
    for (const { name, v } of variants)
      tasks.push({
        tree: { kind: 'variant', name },
        round,
        expect: { mustFail: v.mustFail, mayFail: v.mayFail, mustPass: v.kind === 'alternative' ? 'rest' : [], exact: false },
      });
  }
  const each = (task: Task) =>
    opts.runners.use(lab, async (runner) => {
      const r = await runner.run(task.tree, { timeoutMs: 10 * 60_000 });
      const problems = judge(r, task.expect);
      const c: Check = { lab: lab.slug, tree: r.tree, round: task.round, ok: problems.length === 0, problems, durationMs: r.durationMs };
      opts.onCheck?.(c);
      return c;
    });
  return opts.fixedJobs ? pool(tasks, opts.jobs, each) : gatedPool(tasks, { max: opts.jobs }, each);
}
