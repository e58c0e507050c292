/**
 * A learner's evidence: the figures their lab's tests recorded (testing/evidence.ts), as they were
 * in the first run that failed and in the first run that passed, kept in their progress. What
 * `lab test` shows once a lab passes ("deadlocks 23 → 0") and `lab interview` puts beside the
 * question. Shown to the learner only: never part of points or grades.
 */
import type { Lab } from './lab-schema.js';
import { runPassed, type Painter } from './report.js';
import type { RunResult } from './runner.js';
import type { Figure } from './testing/evidence.js';

export interface Evidence {
  /** Each figure as the first failing run that recorded it saw it (before the fix). */
  before: Figure[];
  /** Each figure as the first complete passing run saw it (after the fix). */
  after: Figure[];
}

/** A run's figures in the order its tests ran; a name two tests record keeps the first test's. */
export function runFigures(run: RunResult): Figure[] {
  const out = new Map<string, Figure>();
  for (const t of run.tests) for (const f of t.evidence ?? []) if (!out.has(f.name)) out.set(f.name, f);
  return [...out.values()];
}

const addNew = (into: Figure[], from: Figure[]) => [...into, ...from.filter((f) => !into.some((g) => g.name === f.name))];

/**
 * The evidence after one more run of the learner's copy. A failing run fills in figures "before"
 * has not seen, until the lab first passes; a passing run of every test (no --filter) fills in
 * "after". Later runs change nothing: the card compares where the learner started with where the
 * fix first got them.
 */
export function nextEvidence(prev: Evidence | undefined, run: RunResult): Evidence {
  const ev: Evidence = { before: [...(prev?.before ?? [])], after: [...(prev?.after ?? [])] };
  const figures = runFigures(run);
  if (figures.length === 0) return ev;
  const complete = run.tests.length > 0 && run.tests.every((t) => t.status !== 'skipped');
  if (runPassed(run)) {
    if (complete) ev.after = addNew(ev.after, figures);
  } else if (ev.after.length === 0) ev.before = addNew(ev.before, figures);
  return ev;
}

const num = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
/** "37 of 60", "6,000 cents", "23". */
export const figureValue = (f: Figure) => `${num(f.value)}${f.of !== undefined ? ` of ${num(f.of)}` : ''}${f.unit ? ` ${f.unit}` : ''}`;

/** The rows of a before/after card: every figure either side has, in the order the tests record them. */
export function evidenceRows(ev: Evidence): Array<{ name: string; before?: Figure; after?: Figure }> {
  const names = [...new Set([...ev.before.map((f) => f.name), ...ev.after.map((f) => f.name)])];
  return names.map((name) => ({ name, before: ev.before.find((f) => f.name === name), after: ev.after.find((f) => f.name === name) }));
}

/**
 * The before/after card:
 *   deadlocks                    23  →  0
 *   transfers succeeded    37 of 60  →  60 of 60
 * or undefined when no run has recorded a figure yet.
 */
export function evidenceCard(ev: Evidence | undefined, p: Painter): string | undefined {
  if (!ev) return undefined;
  const rows = evidenceRows(ev);
  if (rows.length === 0) return undefined;
  const left = Math.max(...rows.map((r) => r.name.length));
  const mid = Math.max(...rows.map((r) => (r.before ? figureValue(r.before) : 'not measured').length));
  const lines = rows.map((r) => {
    const b = r.before ? figureValue(r.before) : 'not measured';
    const a = r.after ? figureValue(r.after) : 'not yet';
    const pad = ' '.repeat(mid - b.length);
    return `  ${r.name.padEnd(left)}  ${pad}${r.before ? b : p.dim(b)}  →  ${r.after ? p.green(a) : p.dim(a)}`;
  });
  const title = ev.before.length
    ? 'Your evidence: your first failing run → your first passing run'
    : 'Your evidence, from your first passing run (no failing run recorded these figures)';
  return [p.bold(title), ...lines].join('\n');
}

/** What `lab test` adds once the learner's copy passes: the card, and where to practise saying it. */
export function afterPassing(lab: Lab, ev: Evidence | undefined, p: Painter): string {
  const card = evidenceCard(ev, p);
  return [...(card ? ['', card] : []), p.dim(`\nSay it out loud, with your numbers: \`lab interview ${lab.slug}\`.`)].join('\n');
}
