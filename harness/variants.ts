/**
 * A lab's variants (solutions/X/variants/NAME): alternative fixes and decoys. variant.json is read
 * here and only here; trees.ts stages a variant, verify.ts judges it, dev/ edits and checks it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { firstIssue, TestIds, type Lab } from './lab-schema.js';
import { LabError } from './errors.js';

export const VariantJson = z
  .object({
    kind: z.enum(['alternative', 'decoy']),
    description: z.string().min(10),
    /**
     * What the variant's change is laid over: the starter (default), the reference solution, or
     * another variant ("variant:NAME"), when it is that fix with one mistake added.
     */
    base: z
      .union([z.enum(['starter', 'solution']), z.string().regex(/^variant:[a-z0-9]+(-[a-z0-9]+)*$/, 'a variant base reads "variant:NAME"')])
      .default('starter'),
    /**
     * Files the variant keeps whole rather than in its change.diff, each with the reason (a rewrite,
     * a file the base does not have). Every other change is a diff over the base.
     */
    whole: z.record(z.string(), z.string().min(10)).default({}),
    /** A decoy: the ids of the tests it must fail, every run (list only failures that are certain). */
    mustFail: TestIds.default([]),
    /** An alternative: the ids of tests it may miss (e.g. a bonus for a different trade-off). Every other test must pass. */
    mayFail: TestIds.default([]),
  })
  .strict()
  .refine((v) => v.kind === 'alternative' || v.mustFail.length > 0, 'a decoy must name at least one test it fails')
  .refine((v) => v.kind === 'decoy' || v.mustFail.length === 0, 'an alternative fails nothing for sure: list what it may miss in mayFail')
  .refine((v) => v.kind === 'alternative' || v.mayFail.length === 0, 'mayFail is for alternatives');
export type VariantJson = z.infer<typeof VariantJson>;

export function readVariant(lab: Lab, name: string): VariantJson {
  const file = join(lab.solutionDir, 'variants', name, 'variant.json');
  if (!existsSync(file)) throw new LabError(`${lab.id} variant ${name} has no variant.json`);
  const parsed = VariantJson.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new LabError(`${lab.id} variant ${name}: variant.json: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

export function variantsOf(lab: Lab): string[] {
  const dir = join(lab.solutionDir, 'variants');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => statSync(join(dir, d)).isDirectory())
    .sort();
}
