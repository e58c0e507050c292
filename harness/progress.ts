/**
 * A learner's progress, derived from real test runs of their copy: WORK_DIR/.progress.json.
 * Each entry is sealed with an HMAC over its content, keyed by a secret kept outside the learner's
 * folder (.lab/progress.key), so a hand-edited entry shows up as "edited" instead of "passing".
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nextEvidence, type Evidence } from './evidence.js';
import type { Lab } from './lab-schema.js';
import type { RunResult } from './runner.js';
import { makeDir, STATE_DIR, WORK_DIR } from './paths.js';
import { learnerDir } from './trees.js';

export interface ProgressEntry {
  passed: number;
  total: number;
  points: number;
  maxPoints: number;
  at: string;
  seal: string;
  /** The figures of the first failing and first passing runs (evidence.ts): shown to the learner, outside the seal, never graded. */
  evidence?: Evidence;
}

export type Status =
  { kind: 'not started' } | { kind: 'started' } | { kind: 'failing' | 'passing'; entry: ProgressEntry } | { kind: 'edited' };

const progressFile = () => join(WORK_DIR, '.progress.json');
const keyFile = () => join(STATE_DIR, 'progress.key');

function key(): Buffer {
  if (!existsSync(keyFile())) {
    mkdirSync(dirname(keyFile()), { recursive: true });
    writeFileSync(keyFile(), randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return Buffer.from(readFileSync(keyFile(), 'utf8'), 'hex');
}

function seal(labId: string, e: Omit<ProgressEntry, 'seal'>): string {
  return createHmac('sha256', key())
    .update(JSON.stringify([labId, e.passed, e.total, e.points, e.maxPoints, e.at]))
    .digest('hex');
}

function readAll(): Record<string, ProgressEntry> {
  try {
    return JSON.parse(readFileSync(progressFile(), 'utf8'));
  } catch {
    return {};
  }
}

export function recordRun(lab: Lab, run: RunResult): void {
  if (run.tests.length === 0) return;
  const e = {
    passed: run.tests.filter((t) => t.status === 'passed').length,
    total: run.tests.length,
    points: run.tests.filter((t) => t.status === 'passed').reduce((a, t) => a + t.points, 0),
    maxPoints: run.tests.reduce((a, t) => a + t.points, 0),
    at: new Date().toISOString(),
  };
  const all = readAll();
  all[lab.id] = { ...e, seal: seal(lab.id, e), evidence: nextEvidence(all[lab.id]?.evidence, run) };
  makeDir(WORK_DIR);
  writeFileSync(progressFile(), JSON.stringify(all, null, 2) + '\n');
}

export function statusOf(lab: Lab): Status {
  if (!existsSync(learnerDir(lab))) return { kind: 'not started' };
  const e = readAll()[lab.id];
  if (!e) return { kind: 'started' };
  const { seal: s, ...rest } = e;
  if (s !== seal(lab.id, rest)) return { kind: 'edited' };
  return { kind: e.passed === e.total ? 'passing' : 'failing', entry: e };
}

/** The learner's evidence for a lab: figures from their first failing and first passing runs. */
export function evidenceOf(lab: Lab): Evidence | undefined {
  return readAll()[lab.id]?.evidence;
}
