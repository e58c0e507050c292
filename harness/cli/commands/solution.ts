import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findLab } from '../../lab-schema.js';
import { LabError } from '../../errors.js';
import { statusOf } from '../../progress.js';
import { diffFiles } from '../../patch.js';
import { filesUnder, learnerDir, stageTree } from '../../trees.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out } from '../ui.js';

/** Shows the reference fix as a diff against your copy, and the notes. Offered once you pass, or with --reveal. */
export const solution: Command = {
  name: 'solution',
  args: 'LAB',
  summary: 'the reference diff against your copy, and NOTES.md (once you pass, or --reveal)',
  options: [{ name: 'reveal', type: 'boolean', description: 'show it even though your copy does not pass yet' }],
  async run({ positionals, options }) {
    if (positionals.length !== 1) throw new UsageError('`lab solution` takes one lab, e.g. `lab solution deadlocks`');
    const lab = findLab(positionals[0]!);
    const status = statusOf(lab);
    if (status.kind !== 'passing' && !options.reveal)
      throw new LabError(
        `your copy of ${lab.slug} does not pass yet (${status.kind}${status.kind === 'failing' ? `: ${status.entry.passed}/${status.entry.total}` : ''}). ` +
          `Keep going (\`lab hint ${lab.slug}\`), or see it anyway with \`lab solution ${lab.slug} --reveal\`.`,
      );
    const reference = stageTree(lab, { kind: 'solution' }).src;
    const mine = join(learnerDir(lab), 'src');
    const base = existsSync(mine) ? mine : lab.srcDir;
    out(c.bold(`Reference fix for ${lab.slug}, as a diff from ${existsSync(mine) ? 'your copy' : 'the starter'}:\n`));
    // Paths as the learner knows them (src/catalog.ts), never the scratch folders they were staged in.
    const read = (root: string, f: string) => (existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : undefined);
    const files = [...new Set([...filesUnder(base), ...filesUnder(reference)])].sort();
    const diff = files.map((f) => diffFiles(`src/${f}`, read(base, f), read(reference, f))).join('');
    const paint = (l: string) =>
      l.startsWith('+++') || l.startsWith('---')
        ? c.bold(l)
        : l.startsWith('+')
          ? c.green(l)
          : l.startsWith('-')
            ? c.red(l)
            : l.startsWith('@@')
              ? c.dim(l)
              : l;
    out(diff ? diff.trimEnd().split('\n').map(paint).join('\n') : '(no differences)');
    const notes = join(lab.solutionDir, 'NOTES.md');
    if (existsSync(notes)) out('\n' + readFileSync(notes, 'utf8'));
    return 0;
  },
};
