import { cpSync, existsSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { HINTS_FILE, startHints } from '../../hints.js';
import { findLab } from '../../lab-schema.js';
import { LabError } from '../../errors.js';
import { makeDir, WORK_DIR } from '../../paths.js';
import { copyStarter, learnerDir } from '../../trees.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { confirm } from '../prompt.js';
import { c, out } from '../ui.js';

/** Restores your copy to the starter, after confirming; what it replaces is moved to work/.backups/. */
export const reset: Command = {
  name: 'reset',
  args: 'LAB',
  summary: 'restore your copy to the starter (asks first; keeps a backup)',
  options: [{ name: 'yes', type: 'boolean', description: 'do not ask (for scripts)' }],
  async run({ positionals, options }) {
    if (positionals.length !== 1) throw new UsageError('`lab reset` takes one lab, e.g. `lab reset deadlocks`');
    const lab = findLab(positionals[0]!);
    const dir = learnerDir(lab);
    const shown = relative(process.cwd(), dir) || dir;
    if (!existsSync(dir)) throw new LabError(`you have no copy of ${lab.slug} to reset: \`lab start ${lab.slug}\` makes one`);
    if (!options.yes) {
      const ok = await confirm(`Replace ${shown} with the starter? Your current copy is moved to a backup.`);
      if (ok === undefined) throw new UsageError('not a terminal, so nobody can confirm: pass --yes to reset without asking');
      if (!ok) {
        out('Nothing changed.');
        return 1;
      }
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const backup = join(WORK_DIR, '.backups', `${lab.id}-${stamp}`);
    makeDir(join(WORK_DIR, '.backups'));
    renameSync(dir, backup);
    copyStarter(lab, dir);
    // The hints already seen stay seen: a reset restores the code, not the record.
    if (existsSync(join(backup, HINTS_FILE))) cpSync(join(backup, HINTS_FILE), join(dir, HINTS_FILE));
    else startHints(dir);
    out(c.green(`${shown} is the starter again.`) + ` Your previous copy is in ${relative(process.cwd(), backup) || backup}/`);
    return 0;
  },
};
