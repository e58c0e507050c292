/**
 * Which questions a learner has practised out loud with `lab interview`: WORK_DIR/.practice.json,
 * beside the progress file. Shown to the learner (`lab questions`); never read by grading, never
 * worth a point.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDir, WORK_DIR } from './paths.js';

export interface Practice {
  /** The main question was answered out loud (its model answer revealed after the timer). */
  answered: boolean;
  /** The follow-ups practised, by position in the card (0-based). */
  followUps: number[];
  at: string;
}

const practiceFile = () => join(WORK_DIR, '.practice.json');

export function readPractice(): Record<string, Practice> {
  try {
    const raw = JSON.parse(readFileSync(practiceFile(), 'utf8')) as Record<string, Partial<Practice>>;
    const out: Record<string, Practice> = {};
    for (const [n, p] of Object.entries(raw))
      out[n] = {
        answered: p.answered === true,
        followUps: Array.isArray(p.followUps) ? p.followUps.filter((i) => Number.isInteger(i) && i >= 0) : [],
        at: String(p.at ?? ''),
      };
    return out;
  } catch {
    return {};
  }
}

/** Adds one session's practice to what was practised before (a follow-up practised once stays practised). */
export function recordPractice(question: number, session: { answered: boolean; followUps: number[] }): Practice {
  const all = readPractice();
  const before = all[question];
  const p: Practice = {
    answered: session.answered || before?.answered === true,
    followUps: [...new Set([...(before?.followUps ?? []), ...session.followUps])].sort((a, b) => a - b),
    at: new Date().toISOString(),
  };
  all[question] = p;
  makeDir(WORK_DIR);
  writeFileSync(practiceFile(), JSON.stringify(all, null, 2) + '\n');
  return p;
}

/** "answer + 2 of 3 follow-ups", or undefined when nothing was practised. */
export function practiceText(p: Practice | undefined, followUps: number): string | undefined {
  if (!p || (!p.answered && p.followUps.length === 0)) return undefined;
  const n = p.followUps.filter((i) => i < followUps).length;
  return `${p.answered ? 'answer' : 'no answer'} + ${n} of ${followUps} follow-up${followUps === 1 ? '' : 's'}`;
}
