import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findLab } from '../../lab-schema.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { out } from '../ui.js';

/** Prints a lab's README: the incident, the question, the task. */
export const show: Command = {
  name: 'show',
  args: 'LAB',
  summary: "print the lab's README",
  options: [],
  async run({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('`lab show` takes one lab, e.g. `lab show deadlocks`');
    const lab = findLab(positionals[0]!);
    out(readFileSync(join(lab.dir, 'README.md'), 'utf8'));
    return 0;
  },
};
