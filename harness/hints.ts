/**
 * Hints, revealed one at a time. Which hints a learner saw is recorded in their copy
 * (work/NN-slug/.hints.json), so it travels with a submission and a grade can show it. `lab start`
 * writes the record (0 hints), so a copy without one had it removed, or was not made by the kit. The
 * record is kept on the learner's machine: a grade reports it as self-reported, never as proof.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab-schema.js';

export interface HintLog {
  revealed: number;
  at: string[];
  /** false: the copy has no readable record (it reads as 0 hints). */
  recorded?: boolean;
}

export const HINTS_FILE = '.hints.json';

export function readHints(copyDir: string): HintLog {
  try {
    const h = JSON.parse(readFileSync(join(copyDir, HINTS_FILE), 'utf8')) as HintLog;
    const revealed = Math.max(0, Math.min(3, Math.floor(Number(h.revealed) || 0)));
    return { revealed, at: Array.isArray(h.at) ? h.at.slice(0, revealed) : [], recorded: true };
  } catch {
    return { revealed: 0, at: [], recorded: false };
  }
}

function writeHints(copyDir: string, log: HintLog): void {
  writeFileSync(join(copyDir, HINTS_FILE), JSON.stringify({ revealed: log.revealed, at: log.at }, null, 2) + '\n');
}

/** A new copy's record: no hints seen yet. */
export function startHints(copyDir: string): void {
  writeHints(copyDir, { revealed: 0, at: [] });
}

/** Reveals the next hint (if any is left) and returns every hint seen so far. */
export function revealNext(lab: Lab, copyDir: string): { shown: string[]; justRevealed: boolean } {
  if (!existsSync(copyDir)) throw new Error(`no copy at ${copyDir}`);
  const log = readHints(copyDir);
  let justRevealed = false;
  if (log.revealed < lab.hints.length) {
    log.revealed++;
    log.at.push(new Date().toISOString());
    writeHints(copyDir, log);
    justRevealed = true;
  }
  return { shown: lab.hints.slice(0, log.revealed), justRevealed };
}
