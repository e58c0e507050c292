/**
 * `lab interview`: practise saying the answer. For each of a lab's questions: the question and the
 * learner's own evidence, a timer while they answer out loud (by level: 60 s or 2 min), Enter
 * reveals the model answer's four parts; then each follow-up the same way. What was practised is
 * recorded (practice.ts). Without a terminal it prints everything, for reading, and records nothing.
 *
 * The session is a function of an InterviewIO, so a test drives it with a script of lines.
 */
import { answerText, cardHead, followUpText, speakingTime, strongText } from './cards.js';
import { evidenceCard, type Evidence } from './evidence.js';
import type { Lab } from './lab-schema.js';
import type { Status } from './progress.js';
import { SPEAKING_SECONDS, type Card } from './questions.js';
import type { Painter } from './report.js';

export interface InterviewPlan {
  /** The lab whose evidence is shown, when the interview is about a lab. */
  lab?: Lab;
  /** The questions, main one first. */
  cards: Card[];
  evidence?: Evidence;
  labsFor: (n: number) => Lab[];
  status: (lab: Lab) => Status;
}

export interface InterviewIO {
  write(text: string): void;
  /** The next line the learner enters; undefined once input has ended. */
  readLine(): Promise<string | undefined>;
  /** Shows a countdown from `seconds` until stopped (a TTY redraws one line); returns stop(). */
  countdown(seconds: number): () => void;
  width: number;
}

export interface Practised {
  question: number;
  answered: boolean;
  followUps: number[];
}

/** "2:00", "0:07" */
export const clock = (s: number) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;

function evidenceBlock(plan: InterviewPlan, p: Painter): string {
  const card = evidenceCard(plan.evidence, p);
  if (card) return `${card}\n${p.dim('Put your numbers in the example: they are what makes the answer yours.')}`;
  return plan.lab ? p.dim(`No figures from your runs yet: \`lab test ${plan.lab.slug}\` records them.`) : '';
}

/** Without a terminal: the question, the evidence, the model answer and the follow-ups, for reading. */
export function interviewForReading(plan: InterviewPlan, p: Painter, width = 100): string {
  const out: string[] = [];
  const ev = evidenceBlock(plan, p);
  plan.cards.forEach((c, i) => {
    if (i) out.push('', p.dim('─'.repeat(Math.min(width, 60))), '');
    out.push(cardHead(c, plan.labsFor(c.number), plan.status, p, width));
    if (i === 0 && ev) out.push('', ev);
    out.push('', p.bold('The model answer'), answerText(c, p, width), '', p.bold('Follow-ups'));
    out.push(c.followUps.map((_, j) => followUpText(c, j, p, { width })).join('\n\n'));
  });
  out.push('', p.dim('Not a terminal, so nothing was timed or recorded: run `lab interview` in a terminal to practise out loud.'));
  return out.join('\n');
}

/**
 * The interactive session. Returns what was practised, question by question, and hands each step to
 * `record` as it is practised (so Ctrl-C loses nothing); stops early, keeping what was practised so
 * far, on "q" or when input ends.
 */
export async function interview(
  plan: InterviewPlan,
  io: InterviewIO,
  p: Painter,
  record: (practised: Practised) => void = () => undefined,
): Promise<Practised[]> {
  const done: Practised[] = [];
  /** Waits for Enter while the timer runs; false when the learner quits. */
  const answerOutLoud = async (seconds: number, reveal: string): Promise<boolean> => {
    io.write(p.dim(`Answer out loud, then press Enter to see ${reveal} (q + Enter stops).`) + '\n');
    const stop = io.countdown(seconds);
    const line = await io.readLine();
    stop();
    return line !== undefined && line.trim().toLowerCase() !== 'q';
  };
  const ev = evidenceBlock(plan, p);
  for (const [i, c] of plan.cards.entries()) {
    const seconds = SPEAKING_SECONDS[c.level];
    const practised: Practised = { question: c.number, answered: false, followUps: [] };
    done.push(practised);
    io.write(`\n${cardHead(c, plan.labsFor(c.number), plan.status, p, io.width)}\n`);
    if (i === 0 && ev) io.write(`\n${ev}\n`);
    io.write(
      `\n${p.bold(`Your answer, in about ${speakingTime(c.level)}:`)} define it, say why it matters, give one real example, name one trade-off.\n`,
    );
    if (!(await answerOutLoud(seconds, 'the model answer'))) return stopped(io, done, p);
    practised.answered = true;
    record(practised);
    io.write(`\n${p.bold('The model answer')}\n${answerText(c, p, io.width)}\n`);
    for (const j of c.followUps.keys()) {
      io.write(`\n${followUpText(c, j, p, { strong: false, width: io.width })}\n`);
      if (!(await answerOutLoud(seconds, 'what a strong answer covers'))) return stopped(io, done, p);
      practised.followUps.push(j);
      record(practised);
      io.write(`${strongText(c, j, p, io.width)}\n`);
    }
  }
  io.write(`\n${p.green('Done.')} ${summary(done)}\n${p.dim('`lab questions` shows what you have practised.')}\n`);
  return done;
}

function summary(done: Practised[]): string {
  return done
    .filter((d) => d.answered || d.followUps.length)
    .map(
      (d) =>
        `Question ${d.question}: ${d.answered ? 'answer' : 'no answer'} + ${d.followUps.length} follow-up${d.followUps.length === 1 ? '' : 's'} practised.`,
    )
    .join(' ');
}

function stopped(io: InterviewIO, done: Practised[], p: Painter): Practised[] {
  const s = summary(done);
  io.write(`\n${p.yellow('Stopped.')} ${s || 'Nothing practised this time.'}\n`);
  return done;
}
