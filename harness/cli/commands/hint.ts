import { findLab } from '../../lab-schema.js';
import { revealNext } from '../../hints.js';
import { learnerDir } from '../../trees.js';
import { LabError } from '../../errors.js';
import { existsSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out } from '../ui.js';
import { reportHint } from '../../workshop/client.js';

/** Reveals the next of the lab's three hints; hints already seen stay visible. Hints used show in a grade. */
export const hint: Command = {
  name: 'hint',
  args: 'LAB',
  summary: 'reveal the next of three hints (recorded, and shown in a grade)',
  options: [],
  async run({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('`lab hint` takes one lab, e.g. `lab hint deadlocks`');
    const lab = findLab(positionals[0]!);
    const dir = learnerDir(lab);
    if (!existsSync(dir)) throw new LabError(`start the lab first: \`lab start ${lab.slug}\``);
    const { shown, justRevealed } = revealNext(lab, dir);
    if (justRevealed) reportHint(lab); // to a workshop board, if joined
    shown.forEach((h, i) =>
      out(`${c.bold(`Hint ${i + 1} of ${lab.hints.length}`)}${i === shown.length - 1 && justRevealed ? c.yellow(' (new)') : ''}\n  ${h}\n`),
    );
    if (!justRevealed) out(c.dim('That was the last hint. `lab solution ' + lab.slug + ' --reveal` shows the reference fix.'));
    return 0;
  },
};
