/**
 * The question bank as the learner reads it: the list of the 30 (`lab questions`), one card
 * (`lab question N`, and `lab interview` without a terminal), in the kit's words. Pure functions of
 * the bank, the labs, progress and practice, so golden tests pin what they print.
 */
import type { Lab } from './lab-schema.js';
import type { Practice } from './practice.js';
import { practiceText } from './practice.js';
import type { Status } from './progress.js';
import { ANSWER_PARTS, LEVELS, SPEAKING_SECONDS, type Card, type Level } from './questions.js';
import type { Painter } from './report.js';

/** Wraps text to `width` columns, every line indented by `indent`; paragraphs stay apart. */
export function wrap(text: string, width: number, indent: string): string {
  return text
    .split('\n\n')
    .map((para) => {
      const lines: string[] = [];
      let line = '';
      for (const word of para.split(/\s+/).filter(Boolean)) {
        if (line && indent.length + line.length + 1 + word.length > width) {
          lines.push(indent + line);
          line = word;
        } else line = line ? `${line} ${word}` : word;
      }
      if (line) lines.push(indent + line);
      return lines.join('\n');
    })
    .join('\n\n');
}

export const speakingTime = (level: Level) => {
  const s = SPEAKING_SECONDS[level];
  return s < 120 ? `${s} s` : `${s / 60} min`;
};

const capital = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** A lab's status in a few words: "passing", "failing, 3 of 7 tests", "not started". */
export function shortStatus(s: Status): string {
  switch (s.kind) {
    case 'passing':
      return 'passing';
    case 'failing':
      return `failing, ${s.entry.total - s.entry.passed} of ${s.entry.total} tests`;
    case 'edited':
      return 'progress edited by hand';
    case 'started':
      return 'started';
    default:
      return 'not started';
  }
}

/** "lab 01 deadlocks: passing", one per lab that makes the question runnable, or "no lab yet". */
function labsLine(labs: Lab[], status: (lab: Lab) => Status, p: Painter): string {
  if (labs.length === 0) return p.dim('no lab yet');
  return labs
    .map((l) => {
      const s = status(l);
      const word = shortStatus(s);
      return `lab ${l.id.slice(0, 2)} ${l.slug}: ${s.kind === 'passing' ? p.green(word) : s.kind === 'failing' ? p.yellow(word) : word}`;
    })
    .join(', ');
}

export interface BankView {
  cards: Card[];
  labsFor: (n: number) => Lab[];
  status: (lab: Lab) => Status;
  practice: Record<string, Practice>;
}

/** `lab questions`: the 30 by level, each with its lab(s), their status, and what was practised. */
export function questionList(v: BankView, p: Painter): string {
  const out: string[] = [];
  for (const level of LEVELS) {
    const cards = v.cards.filter((c) => c.level === level);
    if (cards.length === 0) continue;
    out.push(p.bold(`${capital(level)}`) + p.dim(`  (answer in about ${speakingTime(level)})`));
    for (const c of cards) {
      const practised = practiceText(v.practice[c.number], c.followUps.length);
      out.push(`  ${String(c.number).padStart(2)}  ${c.title}`);
      out.push(
        `      ${labsLine(v.labsFor(c.number), v.status, p)} · ${practised ? p.green(`practised: ${practised}`) : p.dim('not practised')}`,
      );
    }
    out.push('');
  }
  const withLab = v.cards.filter((c) => v.labsFor(c.number).length > 0).length;
  const practised = v.cards.filter((c) => practiceText(v.practice[c.number], c.followUps.length)).length;
  out.push(
    `${v.cards.length} questions, ${withLab} with a lab; ${practised} practised. ` +
      p.dim('`lab question N` shows a card; `lab interview LAB` (or N) practises it out loud.'),
  );
  return out.join('\n');
}

/** Where a card's question is practised: the lab's slug when it has one, else its number. */
export const interviewTarget = (c: Card, labs: Lab[]) => (labs[0] ? labs[0].slug : String(c.number));

/** The card's head: number, level, time to answer, the question, and its lab(s). */
export function cardHead(c: Card, labs: Lab[], status: (lab: Lab) => Status, p: Painter, width = 100): string {
  return [
    p.dim(`Question ${c.number} · ${c.level} · answer in about ${speakingTime(c.level)}`),
    p.bold(wrap(c.question, width, '')),
    `Run it: ${labsLine(labs, status, p)}`,
  ].join('\n');
}

/** The model answer, in its four parts. */
export function answerText(c: Card, p: Painter, width = 100): string {
  return ANSWER_PARTS.map(([key, heading]) => `  ${p.bold(heading)}\n${wrap(c.answer[key], width, '    ')}`).join('\n');
}

/** What a strong answer to follow-up `i` covers, under its heading. */
export function strongText(c: Card, i: number, p: Painter, width = 100): string {
  return `${p.dim('    A strong answer covers:')}\n${wrap(c.followUps[i]!.strong, width, '    ')}`;
}

/** One follow-up: the question, and (when `strong`) what a strong answer covers. */
export function followUpText(c: Card, i: number, p: Painter, { strong = true, width = 100 } = {}): string {
  const head = `  ${p.bold(`Follow-up ${i + 1} of ${c.followUps.length}.`)} ${c.followUps[i]!.question}`;
  return strong ? `${head}\n${strongText(c, i, p, width)}` : head;
}

/** `lab question N`: the whole card. */
export function cardText(c: Card, v: Pick<BankView, 'labsFor' | 'status' | 'practice'>, p: Painter, width = 100): string {
  const labs = v.labsFor(c.number);
  const practised = practiceText(v.practice[c.number], c.followUps.length);
  return [
    cardHead(c, labs, v.status, p, width),
    `Practised: ${practised ?? 'not yet'}`,
    '',
    p.bold('The answer, in four parts'),
    answerText(c, p, width),
    '',
    p.bold('Follow-ups'),
    c.followUps.map((_, i) => followUpText(c, i, p, { width })).join('\n\n'),
    '',
    p.dim(`Say it out loud: \`lab interview ${interviewTarget(c, labs)}\`${labs.length ? ' (once the lab passes)' : ''}.`),
  ].join('\n');
}
