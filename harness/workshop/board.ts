/**
 * What the scoreboard shows, computed from the stored attendees and cells (pure, unit-tested):
 * each cell's state, who is stuck, and how far the room has got per lab. Also the class CSV, in
 * exactly the columns `lab grade` writes (formats.ts classCsv): the board's latest self-reported
 * runs stand in for graded runs.
 */
import { classCsv } from '../formats.js';
import type { LabGrade, LearnerGrade } from '../grade.js';
import { STUCK_AFTER_MS } from './protocol.js';
import type { Attendee, Cell } from './store.js';

export interface BoardLab {
  slug: string;
  title: string;
  order: number;
}

export type CellState = 'not started' | 'started' | 'failing' | 'passing';

export interface CellView {
  state: CellState;
  passed: number;
  failed: number;
  total: number;
  points: number;
  maxPoints: number;
  hintsUsed: number;
  hintsTotal: number;
  failing: string | null;
  /** Why the attendee looks stuck on this lab, or null. */
  stuck: string | null;
  reports: number;
}

export interface Row {
  id: number;
  name: string;
  cells: Record<string, CellView>;
  points: number;
  stuck: boolean;
}

export interface Totals {
  passing: number;
  failing: number;
  started: number;
  notStarted: number;
  stuck: number;
}

const minutes = (ms: number) => Math.floor(ms / 60_000);

export function cellView(c: Cell | undefined, now: number): CellView {
  if (!c)
    return {
      state: 'not started',
      passed: 0,
      failed: 0,
      total: 0,
      points: 0,
      maxPoints: 0,
      hintsUsed: 0,
      hintsTotal: 0,
      failing: null,
      stuck: null,
      reports: 0,
    };
  const state: CellState = c.total === 0 ? 'started' : c.passed === c.total ? 'passing' : 'failing';
  let stuck: string | null = null;
  if (state !== 'passing') {
    const since = c.failingSince ? now - Date.parse(c.failingSince) : 0;
    if (c.failing && since > STUCK_AFTER_MS) stuck = `same failing test for ${minutes(since)} min`;
    else if (c.hintsTotal > 0 && c.hintsUsed >= c.hintsTotal) stuck = `all ${c.hintsTotal} hints used`;
  }
  return {
    state,
    passed: c.passed,
    failed: c.total - c.passed,
    total: c.total,
    points: c.points,
    maxPoints: c.maxPoints,
    hintsUsed: c.hintsUsed,
    hintsTotal: c.hintsTotal,
    failing: c.failing,
    stuck,
    reports: c.reports,
  };
}

export function rows(labs: BoardLab[], attendees: Attendee[], cells: Cell[], now: number): Row[] {
  return attendees.map((a) => {
    const mine = cells.filter((c) => c.attendeeId === a.id);
    const views = Object.fromEntries(
      labs.map((l) => [
        l.slug,
        cellView(
          mine.find((c) => c.lab === l.slug),
          now,
        ),
      ]),
    );
    const all = Object.values(views);
    return { id: a.id, name: a.name, cells: views, points: all.reduce((s, v) => s + v.points, 0), stuck: all.some((v) => v.stuck) };
  });
}

export function totals(labs: BoardLab[], board: Row[]): Record<string, Totals> {
  return Object.fromEntries(
    labs.map((l) => {
      const cells = board.map((r) => r.cells[l.slug]!);
      const n = (s: CellState) => cells.filter((c) => c.state === s).length;
      return [
        l.slug,
        {
          passing: n('passing'),
          failing: n('failing'),
          started: n('started'),
          notStarted: n('not started'),
          stuck: cells.filter((c) => c.stuck).length,
        },
      ];
    }),
  );
}

/** The board as `lab grade --submissions` would lay it out: one LearnerGrade per attendee. */
export function boardGrades(labs: BoardLab[], attendees: Attendee[], cells: Cell[]): LearnerGrade[] {
  return attendees.map((a) => {
    const graded: LabGrade[] = cells
      .filter((c) => c.attendeeId === a.id && c.total > 0)
      .sort((x, y) => labs.findIndex((l) => l.slug === x.lab) - labs.findIndex((l) => l.slug === y.lab))
      .map((c) => {
        const tier = (t: 'core' | 'bonus') => c.tests.filter((x) => x.tier === t);
        const sum = (ts: Cell['tests'], passedOnly: boolean) =>
          ts.filter((x) => !passedOnly || x.status === 'passed').reduce((s, x) => s + x.points, 0);
        return {
          lab: c.lab,
          learner: a.name,
          tests: c.tests.map((t) => ({ ...t, name: t.id, durationMs: 0 })),
          points: c.points,
          maxPoints: c.maxPoints,
          core: { points: sum(tier('core'), true), max: sum(tier('core'), false) },
          bonus: { points: sum(tier('bonus'), true), max: sum(tier('bonus'), false) },
          hintsUsed: c.hintsUsed,
          hintsRecorded: true,
          integrity: [],
          durationMs: 0,
          gradedAt: c.testedAt ?? undefined,
          // Self-reported from the attendee's own machine: never run in the grading sandbox.
          sandboxed: false,
        };
      });
    return {
      learner: a.name,
      labs: graded,
      points: graded.reduce((s, l) => s + l.points, 0),
      maxPoints: graded.reduce((s, l) => s + l.maxPoints, 0),
    };
  });
}

export function boardCsv(labs: BoardLab[], attendees: Attendee[], cells: Cell[]): string {
  return classCsv(
    boardGrades(labs, attendees, cells),
    labs.map((l) => l.slug),
  );
}
