import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { startHints } from '../../hints.js';
import { findLab } from '../../lab-schema.js';
import { copyStarter, learnerDir } from '../../trees.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out } from '../ui.js';

/** Copies a lab's starter into your own folder (work/NN-slug). Never overwrites an existing copy. */
export const start: Command = {
  name: 'start',
  args: 'LAB',
  summary: 'copy the starter into your folder (work/NN-slug)',
  options: [],
  async run({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('`lab start` takes one lab, e.g. `lab start deadlocks`');
    const lab = findLab(positionals[0]!);
    const dest = learnerDir(lab);
    const shown = relative(process.cwd(), dest) || dest;
    if (existsSync(dest)) {
      out(`${shown} already exists; your work in it is kept as it is.`);
      out(`Test it with \`lab test ${lab.slug}\`.`);
      return 0;
    }
    copyStarter(lab, dest);
    startHints(dest);
    out(c.green(`Copied the ${lab.slug} starter to ${shown}/`));
    out(`  read     ${shown}/README.md   (or \`lab show ${lab.slug}\`)`);
    out(`  edit     ${shown}/src/        (look for // TODO)`);
    out(`  test     lab test ${lab.slug}`);
    return 0;
  },
};
