/**
 * Hints, revealed one at a time. Which hints a learner saw is recorded in their copy
 * (work/NN-slug/.hints.json), so it travels with a submission and a grade can show it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab-schema.js';

export interface HintLog {
  revealed: number;
  at: string[];
}

export const HINTS_FILE = '.hints.json';

export function readHints(copyDir: string): HintLog {
  try {
    const h = JSON.parse(readFileSync(join(copyDir, HINTS_FILE), 'utf8')) as HintLog;
    const revealed = Math.max(0, Math.min(3, Math.floor(Number(h.revealed) || 0)));
    return { revealed, at: Array.isArray(h.at) ? h.at.slice(0, revealed) : [] };
  } catch {
    return { revealed: 0, at: [] };
  }
}

/** Reveals the next hint (if any is left) and returns every hint seen so far. */
export function revealNext(lab: Lab, copyDir: string): { shown: string[]; justRevealed: boolean } {
  if (!existsSync(copyDir)) throw new Error(`no copy at ${copyDir}`);
  const log = readHints(copyDir);
  let justRevealed = false;
  if (log.revealed < lab.hints.length) {
    log.revealed++;
    log.at.push(new Date().toISOString());
    writeFileSync(join(copyDir, HINTS_FILE), JSON.stringify(log, null, 2) + '\n');
    justRevealed = true;
  }
  return { shown: lab.hints.slice(0, log.revealed), justRevealed };
}
