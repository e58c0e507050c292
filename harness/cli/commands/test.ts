import { afterPassing } from '../../evidence.js';
import { findLab } from '../../lab-schema.js';
import { evidenceOf, recordRun } from '../../progress.js';
import { header, runPassed, testLines, verdict } from '../../report.js';
import { stageTree } from '../../trees.js';
import { treeOptions, treeSpec } from '../tree-options.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out, step } from '../ui.js';
import { workshopRun } from '../../workshop/client.js';

/** Runs a lab's tests against your copy (default), the starter, the solution, or any folder. */
export const test: Command = {
  name: 'test',
  args: 'LAB',
  summary: 'run the lab tests against your copy (or --starter, --solution, --target DIR)',
  options: [
    ...treeOptions('test'),
    { name: 'filter', type: 'string', value: 'TEXT', description: 'only tests whose names match TEXT (a regular expression)' },
  ],
  async run({ positionals, options }) {
    if (positionals.length !== 1) throw new UsageError('`lab test` takes one lab, e.g. `lab test deadlocks`');
    const spec = treeSpec(options);
    const lab = findLab(positionals[0]!);
    // Stage first, so a missing copy is reported before any container starts.
    const tree = stageTree(lab, spec);
    const workshop = spec.kind === 'learner' ? workshopRun() : undefined; // reports to a workshop board, if joined
    const [{ runLabTests }, { withServices }] = await Promise.all([import('../../runner.js'), import('../../session.js')]);
    const result = await withServices(
      [lab],
      (endpoints) => {
        // One report, streamed: each test's line as it finishes, then the verdict.
        out();
        out(header(lab.slug, tree.label, c));
        return runLabTests(lab, tree, {
          endpoints,
          filter: options.filter as string | undefined,
          onTest: (t) => out(testLines(t, c)),
        });
      },
      step,
    );
    if (spec.kind === 'learner') recordRun(lab, result);
    out(verdict(result, c));
    for (const line of (await workshop?.finish(lab, result)) ?? []) out(c.cyan(line));
    const allPassed = runPassed(result);
    if (spec.kind === 'learner')
      out(
        allPassed
          ? c.green(`\nAll green. Read the reference notes with \`lab solution ${lab.slug}\`.`)
          : c.dim(`\nStuck? \`lab hint ${lab.slug}\` reveals the next hint.`),
      );
    // Once the copy passes: what the fix changed, in the learner's own figures (never part of points).
    if (spec.kind === 'learner' && allPassed) out(afterPassing(lab, evidenceOf(lab), c));
    return allPassed ? 0 : 1;
  },
};
