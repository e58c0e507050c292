import { join } from 'node:path';
import { findLab } from '../../lab-schema.js';
import { recordRun } from '../../progress.js';
import { header, testLines, verdict } from '../../report.js';
import { learnerDir, stageTree } from '../../trees.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out, step } from '../ui.js';
import { reportWatchRun } from '../../workshop/client.js';

/** Reruns the tests of your copy every time you save a file in it. Containers stay warm; Ctrl-C stops everything. */
export const watch: Command = {
  name: 'watch',
  args: 'LAB',
  summary: 'rerun the tests of your copy on every save (containers stay warm)',
  options: [],
  async run({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('`lab watch` takes one lab, e.g. `lab watch deadlocks`');
    const lab = findLab(positionals[0]!);
    const tree = stageTree(lab, { kind: 'learner' });
    const origin = join(learnerDir(lab), 'src');
    const [{ watchLab }, { withServices }] = await Promise.all([import('../../watch.js'), import('../../session.js')]);
    await withServices(
      [lab],
      async (endpoints) => {
        const handle = await watchLab(lab, tree, {
          endpoints,
          origin: tree.src === origin ? undefined : origin,
          onStart: () => out('\n' + header(lab.slug, tree.label, c)),
          onTest: (t) => out(testLines(t, c)),
          onResult: (r) => {
            recordRun(lab, r);
            reportWatchRun(lab, r); // to a workshop board, if joined
            out(verdict(r, c));
            out(c.dim(`\nWatching ${origin} — save a file to rerun, Ctrl-C to stop.`));
          },
        });
        // Until Ctrl-C: then stop the runner (its workers and service processes) before the servers.
        await new Promise<void>((resolve) => {
          const stop = () => void handle.stop().finally(resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
      step,
    );
    return 0;
  },
};
