import { labFolders, loadLab, type Lab } from '../../lab-schema.js';
import { statusOf } from '../../progress.js';
import type { Command } from '../command.js';
import { c, out } from '../ui.js';
import { currentWorkshopLab } from '../../workshop/client.js';

/** Labs in course order, with level, points and your status. */
export const list: Command = {
  name: 'list',
  summary: 'labs in order, with level and your status',
  options: [],
  async run() {
    const folders = labFolders();
    const w = Math.max(...folders.map((f) => f.length - 3));
    let broken = 0;
    const current = await currentWorkshopLab(); // the workshop's current lab, if joined
    for (const id of folders) {
      let lab: Lab;
      try {
        lab = loadLab(id);
      } catch (e) {
        broken++;
        out(`${id.slice(0, 2)}  ${id.slice(3).padEnd(w)}  ${c.red((e as Error).message)}`);
        continue;
      }
      const s = statusOf(lab);
      const status =
        s.kind === 'passing'
          ? c.green(`passing  ${s.entry.points}/${s.entry.maxPoints} pts`)
          : s.kind === 'failing'
            ? c.yellow(
                `failing  ${s.entry.total - s.entry.passed} of ${s.entry.total} tests failing, ${s.entry.points}/${s.entry.maxPoints} pts`,
              )
            : s.kind === 'edited'
              ? c.red('progress file edited by hand: run `lab test` to recompute')
              : s.kind === 'started'
                ? 'started  (not tested yet)'
                : c.dim('not started');
      out(`${String(lab.order).padStart(2, '0')}  ${lab.slug.padEnd(w)}  ${lab.level.padEnd(12)}  ${status}`);
      if (lab.slug === current) out(c.cyan(c.bold(`    ▶ the workshop is on this lab now`)));
      out(c.dim(`    ${lab.title}`));
    }
    return broken ? 1 : 0;
  },
};
