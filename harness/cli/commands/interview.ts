import { createInterface } from 'node:readline';
import { findLab, type Lab } from '../../lab-schema.js';
import { LabError, UsageError } from '../../errors.js';
import { clock, interview as runInterview, interviewForReading, type InterviewIO, type InterviewPlan } from '../../interview.js';
import { recordPractice } from '../../practice.js';
import { evidenceOf, statusOf } from '../../progress.js';
import { allLabs, bank, findCard, labsFor } from '../../questions.js';
import type { Command } from '../command.js';
import { c, out } from '../ui.js';

/** The terminal: lines from stdin, a countdown redrawn in place on stdout. */
function terminal(): InterviewIO & { close(): void } {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines: string[] = [];
  const waiting: Array<(l: string | undefined) => void> = [];
  let ended = false;
  rl.on('line', (l) => (waiting.length ? waiting.shift()!(l) : lines.push(l)));
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  return {
    write: (t) => void process.stdout.write(t),
    readLine: () =>
      lines.length ? Promise.resolve(lines.shift()) : ended ? Promise.resolve(undefined) : new Promise((r) => waiting.push(r)),
    countdown(seconds) {
      const t0 = Date.now();
      const elapsed = () => Math.floor((Date.now() - t0) / 1000);
      const draw = () => {
        const left = seconds - elapsed();
        process.stdout.write(`\r\u001b[2K  ⏱ ${left > 0 ? clock(left) : c.yellow("time's up: finish your sentence")}`);
      };
      draw();
      const timer = setInterval(draw, 1000);
      return () => {
        clearInterval(timer);
        // Enter moved the cursor down a line: rewrite the timer's line with how long the answer took.
        process.stdout.write(`\u001b[1A\r\u001b[2K  ${c.dim(`⏱ you took ${clock(elapsed())}`)}\n`);
      };
    },
    width: Math.min(100, process.stdout.columns || 100),
    close: () => rl.close(),
  };
}

/**
 * Practise the answer out loud: the question and your evidence, a timer, then the model answer and
 * each follow-up. Offered once the lab passes, or with --reveal. Records what you practised.
 */
export const interview: Command = {
  name: 'interview',
  args: 'LAB|N',
  summary: "practise a lab's interview question out loud, with your evidence (once the lab passes, or --reveal)",
  options: [{ name: 'reveal', type: 'boolean', description: 'practise even though the lab does not pass yet' }],
  async run({ positionals, options }) {
    if (positionals.length !== 1)
      throw new UsageError('`lab interview` takes one lab or question number, e.g. `lab interview deadlocks` or `lab interview 7`');
    const cards = bank();
    const labs = allLabs();
    const target = positionals[0]!;
    let lab: Lab | undefined;
    let chosen;
    if (/^#?\d+$/.test(target) && !labs.some((l) => l.slug === target)) {
      const card = findCard(target, cards);
      chosen = [card];
      lab = labsFor(card.number, labs)[0];
    } else {
      lab = findLab(target);
      chosen = lab.questions.map((n) => findCard(String(n), cards));
    }
    if (lab && !options.reveal) {
      const s = statusOf(lab);
      if (s.kind !== 'passing')
        throw new LabError(
          `your copy of ${lab.slug} does not pass yet (${s.kind}). The interview comes with your evidence once it passes: ` +
            `\`lab test ${lab.slug}\`, or practise now with \`lab interview ${target} --reveal\`.`,
        );
    }
    const plan: InterviewPlan = {
      lab,
      cards: chosen,
      evidence: lab && evidenceOf(lab),
      labsFor: (n) => labsFor(n, labs),
      status: statusOf,
    };
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      out(interviewForReading(plan, c, Math.min(100, process.stdout.columns || 100)));
      return 0;
    }
    const io = terminal();
    try {
      await runInterview(plan, io, c, (p) => recordPractice(p.question, p));
    } finally {
      io.close();
    }
    return 0;
  },
};
