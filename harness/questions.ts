/**
 * The question bank: one card per seed question (labs/questions.json numbers them), each a
 * Markdown file labs/questions/NN-slug.md that a learner can also read on its own:
 *
 *   # What causes a deadlock, and how do you prevent one?     ← the question, as an interviewer asks it
 *   Level: advanced                                           ← beginner | intermediate | advanced
 *   ## Define / ## Why it matters / ## Example / ## Trade-off ← the model answer, in four parts
 *   ## Follow-ups                                             ← then two or three of:
 *   ### How does Postgres notice one?                         ← a follow-up question
 *   A strong answer covers …                                  ← what a strong answer to it covers
 *
 * Which labs make a question runnable is not written in the card: it is every lab whose lab.json
 * lists the question's number, so the two can never disagree. `lab dev check` holds every card to
 * this shape (checkBank), and `lab questions`, `lab question N` and `lab interview` read it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Problem } from './dev/check.js';
import { labFolders, loadLab, type Lab } from './lab-schema.js';
import { LabError } from './errors.js';
import { ROOT } from './paths.js';

export const LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
export type Level = (typeof LEVELS)[number];

/** The four parts of every model answer, in the order they are said. */
export const ANSWER_PARTS = [
  ['define', 'Define'],
  ['why', 'Why it matters'],
  ['example', 'Example'],
  ['tradeoff', 'Trade-off'],
] as const;
export type AnswerPart = (typeof ANSWER_PARTS)[number][0];

/**
 * How long a learner gets to answer out loud, by level: a fresher's answer (define it, one example)
 * fits in about a minute; an experienced engineer's leads with trade-offs and gets two.
 */
export const SPEAKING_SECONDS: Record<Level, number> = { beginner: 60, intermediate: 120, advanced: 120 };
/**
 * The most words the four parts may hold: about what fits in that time, spoken at an unhurried
 * 150 words a minute, with room for the learner's own numbers.
 */
export const MAX_ANSWER_WORDS: Record<Level, number> = { beginner: 160, intermediate: 230, advanced: 230 };

export interface FollowUp {
  question: string;
  /** What a strong answer covers. */
  strong: string;
}

export interface Card {
  number: number;
  /** The short title labs/questions.json gives the question. */
  title: string;
  /** The question as an interviewer asks it (the card's heading). */
  question: string;
  level: Level;
  answer: Record<AnswerPart, string>;
  followUps: FollowUp[];
  /** The card's file, relative to the kit's root (labs/questions/28-deadlocks.md). */
  file: string;
}

export const bankDir = (root = ROOT) => join(root, 'labs', 'questions');

/** The seed questions, by number: labs/questions.json. */
export function seedQuestions(root = ROOT): Map<number, string> {
  const json = JSON.parse(readFileSync(join(root, 'labs', 'questions.json'), 'utf8')) as { questions: Record<string, string> };
  return new Map(Object.entries(json.questions).map(([n, t]) => [Number(n), t]));
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
/** A paragraph's lines joined into one; blank lines kept as paragraph breaks. */
const prose = (lines: string[]) =>
  lines
    .join('\n')
    .trim()
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, ' ').trim())
    .filter(Boolean)
    .join('\n\n');

/**
 * Reads one card. Returns the card, or the problems that keep it from being complete (each naming
 * the file and line where it can be fixed).
 */
export function parseCard(text: string, file: string, number: number, title: string): { card?: Card; problems: Problem[] } {
  const problems: Problem[] = [];
  const say = (message: string, line?: number) => problems.push({ where: line ? `${file}:${line}` : file, message });
  const lines = text.split('\n');
  const h1 = lines[0]?.startsWith('# ') ? lines[0].slice(2).trim() : '';
  if (!h1.endsWith('?')) say('the first line should be "# <the question, as an interviewer asks it>?"', 1);
  const levelAt = lines.findIndex((l) => /^Level:/i.test(l));
  const level =
    levelAt >= 0
      ? lines[levelAt]!.replace(/^Level:/i, '')
          .trim()
          .toLowerCase()
      : '';
  if (!(LEVELS as readonly string[]).includes(level)) say(`a line "Level: ${LEVELS.join(' | ')}" should follow the question`);

  // Sections: ## headings, and ### follow-ups inside "## Follow-ups".
  const sections = new Map<string, { line: number; body: string[] }>();
  const followUps: Array<{ line: number; question: string; body: string[] }> = [];
  let into: string[] | undefined;
  lines.forEach((l, i) => {
    if (l.startsWith('## ')) {
      const name = l.slice(3).trim();
      if (sections.has(name)) say(`"## ${name}" appears twice`, i + 1);
      const s = { line: i + 1, body: [] as string[] };
      sections.set(name, s);
      into = s.body;
    } else if (l.startsWith('### ')) {
      if (![...sections.keys()].at(-1)?.startsWith('Follow-ups')) say('a "### " follow-up belongs under "## Follow-ups"', i + 1);
      const f = { line: i + 1, question: l.slice(4).trim(), body: [] as string[] };
      followUps.push(f);
      into = f.body;
    } else into?.push(l);
  });
  const want = [...ANSWER_PARTS.map(([, h]) => h), 'Follow-ups'];
  const found = [...sections.keys()];
  for (const name of found)
    if (!want.includes(name)) say(`unexpected section "## ${name}": a card has ${want.map((w) => `"## ${w}"`).join(', ')}`);
  const order = found.filter((f) => want.includes(f)).map((f) => want.indexOf(f));
  if (order.some((w, i) => i > 0 && w < order[i - 1]!)) say(`the sections should come in this order: ${want.join(', ')}`);
  const answer = {} as Record<AnswerPart, string>;
  let total = 0;
  for (const [key, heading] of ANSWER_PARTS) {
    const s = sections.get(heading);
    const body = s ? prose(s.body) : '';
    if (!s) say(`missing "## ${heading}": every answer says it in four parts (${ANSWER_PARTS.map(([, h]) => h).join(', ')})`);
    else if (words(body) < 8) say(`"## ${heading}" is empty or too short to say anything`, s.line);
    answer[key] = body;
    total += words(body);
  }
  const lvl = level as Level;
  if (LEVELS.includes(lvl) && total > MAX_ANSWER_WORDS[lvl])
    say(
      `the answer is ${total} words; a ${lvl} answer should be said in about ${SPEAKING_SECONDS[lvl]} s, at most ${MAX_ANSWER_WORDS[lvl]} words`,
    );
  if (!sections.has('Follow-ups')) say('missing "## Follow-ups": two or three, each a "### question?" and what a strong answer covers');
  else if (followUps.length < 2 || followUps.length > 3)
    say(`${followUps.length} follow-up${followUps.length === 1 ? '' : 's'}: a card has two or three`, sections.get('Follow-ups')!.line);
  for (const f of followUps) {
    if (!f.question.endsWith('?')) say(`the follow-up "${f.question}" should be a question`, f.line);
    if (words(prose(f.body)) < 12) say(`the follow-up "${f.question}" needs what a strong answer covers`, f.line);
  }
  lines.forEach((l, i) => {
    if (/<write: [^>]*>/.test(l)) say('still to write', i + 1);
  });
  if (problems.length) return { problems };
  return {
    card: {
      number,
      title,
      question: h1,
      level: lvl,
      answer,
      followUps: followUps.map((f) => ({ question: f.question, strong: prose(f.body) })),
      file,
    },
    problems,
  };
}

/** Every card of the bank, in number order, and every problem that keeps one from being complete. */
export function loadBank(root = ROOT): { cards: Card[]; problems: Problem[] } {
  const dir = bankDir(root);
  const seeds = seedQuestions(root);
  const problems: Problem[] = [];
  const cards: Card[] = [];
  const files = existsSync(dir) ? readdirSync(dir).sort() : [];
  const byNumber = new Map<number, string>();
  for (const f of files) {
    const m = /^(\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*\.md$/.exec(f);
    const where = `labs/questions/${f}`;
    if (!m) {
      problems.push({ where, message: 'stray: the bank holds only cards named NN-slug.md (NN: the question number)' });
      continue;
    }
    const n = Number(m[1]);
    if (!seeds.has(n)) {
      problems.push({ where, message: `question ${n} is not one of the seed questions in labs/questions.json` });
      continue;
    }
    if (byNumber.has(n)) {
      problems.push({ where, message: `question ${n} already has a card: ${byNumber.get(n)}` });
      continue;
    }
    byNumber.set(n, where);
    const parsed = parseCard(readFileSync(join(dir, f), 'utf8'), where, n, seeds.get(n)!);
    problems.push(...parsed.problems);
    if (parsed.card) cards.push(parsed.card);
  }
  for (const [n, title] of seeds)
    if (!byNumber.has(n))
      problems.push({
        where: 'labs/questions/',
        message: `question ${n} ("${title}") has no card: write labs/questions/${String(n).padStart(2, '0')}-<slug>.md`,
      });
  return { cards: cards.sort((a, b) => a.number - b.number), problems };
}

/** `lab dev check`'s rule: every seed question has a complete card. */
export function checkBank(root: string): Problem[] {
  return loadBank(root).problems;
}

/** The bank, for the commands: a card that is not complete is an error the kit's own check would have reported. */
export function bank(root = ROOT): Card[] {
  const { cards, problems } = loadBank(root);
  if (problems.length)
    throw new LabError(`the question bank is not complete (\`lab dev check\` lists why): ${problems[0]!.where}: ${problems[0]!.message}`);
  return cards;
}

/** One card, by number ("28", "#28"), with a clear line for anything else. */
export function findCard(query: string, cards = bank()): Card {
  const n = Number(query.replace(/^#/, ''));
  const card = Number.isInteger(n) ? cards.find((c) => c.number === n) : undefined;
  if (!card) throw new LabError(`no question "${query}": the bank numbers them 1 to ${cards.length} (\`lab questions\` lists them)`);
  return card;
}

/** The labs that make a question runnable: those whose lab.json lists its number (first-listed first). */
export function labsFor(number: number, labs: Lab[] = allLabs()): Lab[] {
  return labs
    .filter((l) => l.questions.includes(number))
    .sort((a, b) => a.questions.indexOf(number) - b.questions.indexOf(number) || a.order - b.order);
}

/** Every lab that loads (a broken lab.json is `lab list`'s and `lab dev check`'s to report). */
export function allLabs(labsDir?: string): Lab[] {
  const out: Lab[] = [];
  for (const id of labFolders(labsDir)) {
    try {
      out.push(loadLab(id, labsDir));
    } catch {
      /* reported elsewhere */
    }
  }
  return out;
}
