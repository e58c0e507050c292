/**
 * Grading: the kit's pristine tests against a learner copy or a submitted folder, with points per
 * test (core and bonus), hints used, and integrity findings. Submissions run in parallel; a hung or
 * crashing submission costs only its own grade.
 *
 * By default each submission is graded as code nobody trusts: its service runs in a sandbox
 * container (servers/sandbox.ts) against servers of its own, started for it and removed after it.
 * Without the sandbox (trusted runs), submissions share one set of servers and their services run
 * as the grader's own processes; the reports say which.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { readHints, HINTS_FILE } from './hints.js';
import { defaultJobs, gatedPool, pool } from './jobs.js';
import type { Endpoints } from './endpoints.js';
import type { Lab } from './lab-schema.js';
import { collectTests, type LabRunner, type RunnerSet, type RunResult, type TestResult } from './runner.js';
import { holdIfInterrupted } from './interrupt.js';

export interface LabGrade {
  lab: string;
  learner: string;
  /** Where the graded copy was found, or undefined when the learner has none. */
  copy?: string;
  tests: TestResult[];
  points: number;
  maxPoints: number;
  core: { points: number; max: number };
  bonus: { points: number; max: number };
  hintsUsed: number;
  /** Whether the copy holds its hint record (hints.ts); hints are self-reported either way. */
  hintsRecorded: boolean;
  /** Things a grader should look at: edited tests, files outside src/. Graded anyway, on the kit's tests. */
  integrity: string[];
  error?: string;
  durationMs: number;
  /** When grading finished (ISO 8601): set by gradeSubmissions. */
  gradedAt?: string;
  /** Whether the service ran in the grading sandbox, on servers of its own; false: a trusted run (--no-sandbox). */
  sandboxed: boolean;
}

export interface LearnerGrade {
  learner: string;
  labs: LabGrade[];
  points: number;
  maxPoints: number;
}

/** Files a copy may hold besides src/ without comment. */
const EXPECTED_OUTSIDE_SRC = new Set(['README.md', HINTS_FILE, 'test', 'node_modules', '.DS_Store']);

/** Files under dir, never following a symbolic link (a link to `.` would loop). */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return lstatSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Compares as a file's bytes; a link, a folder or anything else than a plain file never matches. */
const sameFile = (a: string, b: string) => lstatSync(b).isFile() && digest(a) === digest(b);

const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** What a submission changed that it should not have. Pure file comparison; never runs anything. */
export function integrityFindings(lab: Lab, copyDir: string): string[] {
  const findings: string[] = [];
  const testDir = join(copyDir, 'test');
  if (existsSync(testDir)) {
    const changed = walk(testDir)
      .map((f) => relative(testDir, f))
      .filter((rel) => {
        const pristine = join(lab.testDir, rel);
        return !existsSync(pristine) || !sameFile(pristine, join(testDir, rel));
      });
    if (changed.length)
      findings.push(`changed test files (ignored: graded with the kit's own tests): ${changed.map((f) => `test/${f}`).join(', ')}`);
  }
  const outside = readdirSync(copyDir).filter((e) => e !== 'src' && !EXPECTED_OUTSIDE_SRC.has(e));
  if (outside.length) findings.push(`files outside src/ (not graded): ${outside.join(', ')}`);
  return findings;
}

/** Finds a learner's copy of a lab in their folder: DIR/NN-slug, DIR/slug, or DIR itself when it is a single copy. */
export function findCopy(lab: Lab, dir: string, single: boolean): string | undefined {
  for (const cand of [join(dir, lab.id), join(dir, lab.slug)]) if (existsSync(join(cand, 'src', 'app.ts'))) return cand;
  if (single && existsSync(join(dir, 'src', 'app.ts'))) return dir;
  return undefined;
}

export { defaultJobs };

export interface GradeOptions {
  /** The runner to run the kit's tests with (see RunnerSet). */
  runner: LabRunner;
  /** The lab's tests and points (collectTests), so that a run that dies still scores against the full maximum. */
  expected: TestResult[];
  /** Per lab per submission. Default 5 minutes. */
  timeoutMs?: number;
  /** Run the service in the grading sandbox (runner.ts RunOptions.sandbox). */
  sandbox?: boolean;
  /** Starts servers of the submission's own for a lab, stopped after its run; without it the runner's are used. */
  servers?: (lab: Lab) => Promise<{ endpoints: Endpoints; stop(): Promise<void> }>;
}

export async function gradeLab(lab: Lab, learner: string, copyDir: string | undefined, opts: GradeOptions): Promise<LabGrade> {
  const grade: LabGrade = {
    lab: lab.slug,
    learner,
    copy: copyDir,
    tests: [],
    points: 0,
    maxPoints: 0,
    core: { points: 0, max: 0 },
    bonus: { points: 0, max: 0 },
    hintsUsed: 0,
    hintsRecorded: false,
    integrity: [],
    durationMs: 0,
    sandboxed: !!opts.sandbox,
  };
  if (!copyDir) return failedGrade(lab, learner, opts.expected, `no copy of ${lab.id} in the submission`, grade.sandboxed);
  try {
    const hints = readHints(copyDir);
    grade.hintsUsed = hints.revealed;
    grade.hintsRecorded = hints.recorded === true;
    grade.integrity = integrityFindings(lab, copyDir);
    if (!grade.hintsRecorded)
      grade.integrity.push(`no hint record (${HINTS_FILE}, written by \`lab start\`): hints used unknown, shown as 0`);
  } catch (e) {
    grade.integrity.push(`the copy could not be inspected: ${(e as Error).message.split('\n')[0]}`);
  }
  let run: RunResult;
  let servers: Awaited<ReturnType<NonNullable<GradeOptions['servers']>>> | undefined;
  try {
    servers = await opts.servers?.(lab);
    run = await opts.runner.run(
      { kind: 'dir', dir: copyDir },
      { timeoutMs: opts.timeoutMs ?? 5 * 60_000, sandbox: opts.sandbox, endpoints: servers?.endpoints },
    );
  } catch (e) {
    // The copy could not even be staged (unreadable, a link loop): this learner's grade says so.
    run = { lab: lab.slug, tree: copyDir, tests: [], error: (e as Error).message.split('\n')[0], durationMs: 0 };
  } finally {
    await servers?.stop();
  }
  // Every expected test gets a verdict, found by id (lab verify proves each kit test has its own):
  // one the run never reported (a crash, a time-out) failed.
  const byId = new Map(run.tests.map((t) => [t.id, t]));
  grade.tests = opts.expected.map(
    (e) => byId.get(e.id) ?? { ...e, status: 'failed' as const, failure: run.error ?? 'this test did not run' },
  );
  for (const t of grade.tests)
    if (t.status === 'skipped')
      Object.assign(t, { status: 'failed', failure: t.failure ?? run.error ?? 'skipped: a hook failed before it ran' });
  grade.error = run.error;
  grade.durationMs = run.durationMs;
  for (const t of grade.tests) {
    const bucket = t.tier === 'bonus' ? grade.bonus : grade.core;
    bucket.max += t.points;
    if (t.status === 'passed') bucket.points += t.points;
  }
  grade.points = grade.core.points + grade.bonus.points;
  grade.maxPoints = grade.core.max + grade.bonus.max;
  return grade;
}

export interface Submission {
  learner: string;
  /** The learner's folder (for an archive: where it is unpacked, once it is). */
  dir: string;
  /** A submission that came as an archive (.tar, .tar.gz, .tgz, .zip), unpacked when its turn comes. */
  archive?: string;
}

const ARCHIVE = /\.(tar|tar\.gz|tgz|zip)$/i;

/** A submission that is an archive file: its learner is the name without the extension. */
export function archiveSubmission(path: string): Submission | undefined {
  return ARCHIVE.test(path) ? { learner: basename(path).replace(ARCHIVE, ''), dir: '', archive: path } : undefined;
}

/** The line of tar's or unzip's complaints that says what was wrong, not how it ended. */
function unpackError(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => !/Removing leading|Exiting with failure status/.test(l)) ?? lines[0] ?? '';
}

/**
 * Unpacks a submitted archive into a fresh temporary folder and returns the folder holding the
 * learner's copies (the archive's single top folder, if it has one). Throws a one-line error when
 * it will not unpack: that learner's grade says so, and the batch goes on. GNU tar and unzip both
 * refuse members that would land outside the folder.
 */
export function unpackSubmission(archive: string): { root: string; dir: string } {
  const dest = mkdtempSync(join(tmpdir(), 'lab-submission-'));
  const zip = /\.zip$/i.test(archive);
  const r = zip
    ? spawnSync('unzip', ['-q', '-o', archive, '-d', dest], { encoding: 'utf8', timeout: 60_000 })
    : spawnSync('tar', ['-xf', archive, '-C', dest, '--no-same-owner', '--no-same-permissions'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) {
    rmSync(dest, { recursive: true, force: true });
    const why = r.error
      ? (r.error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${zip ? 'unzip' : 'tar'} is not installed`
        : r.error.message
      : unpackError(r.stderr) || `exit ${r.status}`;
    throw new Error(`the archive ${basename(archive)} could not be unpacked: ${why}`);
  }
  const entries = readdirSync(dest).filter((e) => !e.startsWith('.') && e !== '__MACOSX');
  const only = entries.length === 1 ? join(dest, entries[0]!) : undefined;
  const top = only && lstatSync(only).isDirectory() && !/^\d{2}-/.test(entries[0]!) && entries[0] !== 'src';
  return { root: dest, dir: top ? only : dest };
}

/**
 * Shard `index` (1-based) of `count` of a class: every count-th learner in name order, so that N
 * runners given 1/N … N/N grade each learner exactly once, whatever order they list the folder in.
 */
export function shardOf<T extends { learner: string }>(subs: T[], index: number, count: number): T[] {
  return [...subs].sort((a, b) => (a.learner < b.learner ? -1 : a.learner > b.learner ? 1 : 0)).filter((_, i) => i % count === index - 1);
}

/** Parses --shard I/N. */
export function parseShard(value: string): { index: number; count: number } | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  if (!m) return undefined;
  const [index, count] = [Number(m[1]), Number(m[2])];
  return index >= 1 && count >= 1 && index <= count ? { index, count } : undefined;
}

/** Every subfolder of DIR is one learner's submission, and so is every archive (ada.tar.gz is ada). */
export function listSubmissions(dir: string): Submission[] {
  return readdirSync(dir)
    .filter((e) => !e.startsWith('.'))
    .sort()
    .flatMap((e): Submission[] => {
      const p = join(dir, e);
      let st;
      try {
        st = statSync(p, { throwIfNoEntry: false });
      } catch {
        // A link loop, say: still a learner, whose grade then says there is no copy to grade.
        return [{ learner: e, dir: p }];
      }
      if (st?.isDirectory()) return [{ learner: e, dir: p }];
      const archived = st?.isFile() ? archiveSubmission(p) : undefined;
      if (archived) return [archived];
      return [];
    });
}

export async function gradeSubmissions(
  labs: Lab[],
  submissions: Submission[],
  opts: {
    runners: RunnerSet;
    timeoutMs?: number;
    sandbox?: boolean;
    servers?: GradeOptions['servers'];
    /** Exactly this many at once; without it the CPU decides, up to defaultJobs() (gatedPool). */
    jobs?: number;
    onGraded?: (g: LabGrade) => void;
    /** A learner's every lab is graded: their reports can be written now, not at the end of the batch. */
    onLearner?: (g: LearnerGrade) => void;
  },
): Promise<LearnerGrade[]> {
  const single = labs.length === 1;
  const expected = new Map<string, TestResult[]>();
  for (const lab of labs) expected.set(lab.id, await collectTests(lab));
  const work = submissions.flatMap((s) => labs.map((lab) => ({ s, lab })));
  const done = new Map<string, LabGrade[]>();
  const learnerGrade = (s: Submission, mine: LabGrade[]): LearnerGrade => ({
    learner: s.learner,
    labs: labs.map((l) => mine.find((g) => g.lab === l.slug)!),
    points: mine.reduce((a, g) => a + g.points, 0),
    maxPoints: mine.reduce((a, g) => a + g.maxPoints, 0),
  });
  // An archive is unpacked once, when the first of its labs is graded, and removed after the last.
  const unpacked = new Map<string, { root: string; dir: string } | Error>();
  const folderOf = (s: Submission) => {
    if (!s.archive) return s.dir;
    if (!unpacked.has(s.learner)) {
      try {
        unpacked.set(s.learner, unpackSubmission(s.archive));
      } catch (e) {
        unpacked.set(s.learner, e as Error);
      }
    }
    const u = unpacked.get(s.learner)!;
    if (u instanceof Error) throw u;
    return u.dir;
  };
  const each = async ({ s, lab }: (typeof work)[number]) => {
    let g: LabGrade;
    try {
      const dir = folderOf(s);
      g = await opts.runners.use(lab, (runner) =>
        gradeLab(lab, s.learner, findCopy(lab, dir, single), {
          runner,
          timeoutMs: opts.timeoutMs,
          expected: expected.get(lab.id)!,
          sandbox: opts.sandbox,
          servers: opts.servers,
        }),
      );
    } catch (e) {
      // Whatever went wrong with this submission stays its own: the batch goes on.
      g = failedGrade(lab, s.learner, expected.get(lab.id)!, `could not be graded: ${(e as Error).message.split('\n')[0]}`, !!opts.sandbox);
    }
    await holdIfInterrupted(); // Ctrl-C: no report for a grade its servers were taken from
    g.gradedAt = new Date().toISOString();
    opts.onGraded?.(g);
    const mine = [...(done.get(s.learner) ?? []), g];
    done.set(s.learner, mine);
    if (mine.length === labs.length) {
      opts.onLearner?.(learnerGrade(s, mine));
      const tmp = unpacked.get(s.learner);
      if (tmp && !(tmp instanceof Error)) rmSync(tmp.root, { recursive: true, force: true });
    }
    return g;
  };
  await (opts.jobs ? pool(work, opts.jobs, each) : gatedPool(work, { max: defaultJobs() }, each));
  return submissions.map((s) => learnerGrade(s, done.get(s.learner) ?? []));
}

/** A lab grade with every expected test failed for one reason. */
function failedGrade(lab: Lab, learner: string, expected: TestResult[], error: string, sandboxed: boolean): LabGrade {
  const tests = expected.map((e) => ({ ...e, status: 'failed' as const, failure: error }));
  const max = (tier: string) => tests.filter((t) => (t.tier === 'bonus') === (tier === 'bonus')).reduce((a, t) => a + t.points, 0);
  const core = { points: 0, max: max('core') };
  const bonus = { points: 0, max: max('bonus') };
  return {
    lab: lab.slug,
    learner,
    tests,
    points: 0,
    maxPoints: core.max + bonus.max,
    core,
    bonus,
    hintsUsed: 0,
    hintsRecorded: false,
    integrity: [],
    error,
    durationMs: 0,
    sandboxed,
  };
}

export function learnerName(dir: string): string {
  return basename(dir);
}
