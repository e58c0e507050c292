import { cardText, questionList, type BankView } from '../../cards.js';
import { readPractice } from '../../practice.js';
import { statusOf } from '../../progress.js';
import { allLabs, bank, findCard, labsFor } from '../../questions.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out } from '../ui.js';

/** The bank, the labs, your progress and what you practised: what both commands show. */
function view(): BankView {
  const labs = allLabs();
  return { cards: bank(), labsFor: (n) => labsFor(n, labs), status: statusOf, practice: readPractice() };
}

/** The 30 interview questions by level, each with its lab, your status, and what you practised. */
export const questions: Command = {
  name: 'questions',
  summary: 'the 30 interview questions by level, with their labs and what you practised',
  options: [],
  async run({ positionals }) {
    if (positionals.length) throw new UsageError('`lab questions` takes no arguments; `lab question N` shows one card');
    out(questionList(view(), c));
    return 0;
  },
};

/** One question's card: the model answer in four parts, the follow-ups, and its lab. */
export const question: Command = {
  name: 'question',
  args: 'N',
  summary: "one question's card: the answer in four parts, follow-ups, and its lab",
  options: [],
  async run({ positionals }) {
    if (positionals.length !== 1)
      throw new UsageError('`lab question` takes one number, e.g. `lab question 28` (`lab questions` lists them)');
    const v = view();
    out(cardText(findCard(positionals[0]!, v.cards), v, c, Math.min(100, process.stdout.columns || 100)));
    return 0;
  },
};
