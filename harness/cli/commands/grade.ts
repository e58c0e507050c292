import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { classCsv, classSummary, gradeMark, mergeClassCsv, toClassroom, toJson, toJUnit, toMarkdown } from '../../formats.js';
import type { Endpoints } from '../../endpoints.js';
import type { LearnerGrade, Submission } from '../../grade.js';
import type { StartedServices } from '../../servers/containers.js';
import { defaultJobs } from '../../jobs.js';
import { findLab, loadLabs, type Lab } from '../../lab-schema.js';
import { LabError } from '../../errors.js';
import { isInside, kitFolderProblem, makeDir, ROOT, WORK_DIR } from '../../paths.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out, step } from '../ui.js';

/** A folder given on the command line: it must exist and be a folder. */
function existingFolder(option: string, path: string): string {
  const p = resolve(path);
  if (!existsSync(p)) throw new LabError(`${option} ${path}: no such folder`);
  if (!statSync(p).isDirectory())
    throw new LabError(`${option} ${path} is a file, not a folder (nor a .tar, .tar.gz, .tgz or .zip archive)`);
  return p;
}

/**
 * Where reports go: a folder that can be written, outside what is graded (reports inside a
 * submissions folder would be graded as a learner next time) and outside the kit's own folders.
 */
function writableOut(path: string, graded?: string): string {
  const p = resolve(path);
  if (existsSync(p) && !statSync(p).isDirectory()) throw new LabError(`--out ${path} is a file, not a folder`);
  if (graded !== undefined && isInside(p, graded))
    throw new LabError(`--out ${path} is inside ${graded}, which is being graded: put reports elsewhere`);
  const kit = kitFolderProblem(p);
  if (kit) throw new LabError(`--out ${path}: ${kit}`);
  try {
    makeDir(p);
    const probe = join(p, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new LabError(`--out ${path} cannot be written: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return p;
}

/**
 * Grades with the kit's own tests and harness, never a submission's copies: your copies (default),
 * one submitted folder (--target), or a folder of submissions, one subfolder per learner
 * (--submissions). Exits 0 whenever grading ran; --min-score makes it a gate.
 */
export const grade: Command = {
  name: 'grade',
  args: '[LAB…]',
  summary: 'grade copies with the kit’s pristine tests: points, hints used, reports',
  options: [
    {
      name: 'target',
      type: 'string',
      value: 'DIR',
      description: 'grade one submitted folder or archive (lab copies, or a single copy of one lab)',
    },
    {
      name: 'submissions',
      type: 'string',
      value: 'DIR',
      description: 'grade every subfolder or archive (.tar, .tar.gz, .tgz, .zip) of DIR as one learner, in parallel',
    },
    { name: 'out', type: 'string', value: 'DIR', description: 'where reports go (default grades/)' },
    {
      name: 'jobs',
      type: 'number',
      value: 'N',
      description: `submissions graded at once (default: as many as the CPU allows, up to ${defaultJobs()})`,
    },
    { name: 'timeout', type: 'number', value: 'S', description: 'seconds one lab of one submission may take (default 300)' },
    {
      name: 'shard',
      type: 'string',
      value: 'I/N',
      description: 'with --submissions: grade only the I-th of N shares of the class (learners in name order), e.g. one per CI runner',
    },
    { name: 'min-score', type: 'number', value: 'P', description: 'exit 1 when any learner scores below P points' },
    {
      name: 'sandbox',
      type: 'boolean',
      description:
        'run each submission’s service in a sandbox container, on servers of its own (the default); --no-sandbox for trusted code only, and the reports say so',
    },
    {
      name: 'merge',
      type: 'boolean',
      description: 'grade nothing: merge the class.csv files named as arguments (one per shard) into --out/class.csv, or print it',
    },
  ],
  async run({ positionals, options }) {
    if (options.merge) {
      if (positionals.length === 0) throw new UsageError('`lab grade --merge` takes the class.csv files to merge, e.g. grades-*/class.csv');
      const missing = positionals.find((p) => !existsSync(p) || statSync(p).isDirectory());
      if (missing) throw new LabError(`${missing} is not a file: --merge takes class.csv files`);
      let merged: string;
      try {
        merged = mergeClassCsv(positionals.map((p) => ({ name: p, text: readFileSync(p, 'utf8') })));
      } catch (e) {
        throw new LabError((e as Error).message);
      }
      if (typeof options.out !== 'string') {
        process.stdout.write(merged);
        return 0;
      }
      const dir = writableOut(options.out);
      writeFileSync(join(dir, 'class.csv'), merged);
      out(`Merged ${positionals.length} CSVs, ${merged.trim().split('\n').length - 1} learners, into ${join(dir, 'class.csv')}`);
      return 0;
    }
    if (options.target && options.submissions) throw new UsageError('choose --target or --submissions, not both');
    if (options.shard !== undefined && !options.submissions) throw new UsageError('--shard splits a class: use it with --submissions');
    const [{ archiveSubmission, gradeSubmissions, listSubmissions, parseShard, shardOf }, { RunnerSet }, session, { HostPool }] =
      await Promise.all([import('../../grade.js'), import('../../runner.js'), import('../../session.js'), import('../../testing/host.js')]);
    const sandbox = options.sandbox !== false;
    const labs: Lab[] = positionals.length ? positionals.map((p) => findLab(p)) : loadLabs();
    let subs: Submission[];
    let graded: string;
    if (typeof options.submissions === 'string') {
      graded = existingFolder('--submissions', options.submissions);
      subs = listSubmissions(graded);
      if (subs.length === 0) throw new LabError(`${options.submissions} holds no submission folders`);
      if (typeof options.shard === 'string') {
        const shard = parseShard(options.shard);
        if (!shard) throw new UsageError(`--shard takes I/N with 1 ≤ I ≤ N, e.g. 2/4, not "${options.shard}"`);
        subs = shardOf(subs, shard.index, shard.count);
        if (subs.length === 0)
          throw new LabError(`shard ${options.shard} of ${options.submissions} holds no submissions (it has fewer learners than shards)`);
      }
    } else if (typeof options.target === 'string') {
      const archived =
        existsSync(options.target) && statSync(options.target).isFile() ? archiveSubmission(resolve(options.target)) : undefined;
      graded = archived ? resolve(options.target) : existingFolder('--target', options.target);
      subs = [archived ?? { learner: basename(graded), dir: graded }];
    } else {
      graded = WORK_DIR;
      subs = [{ learner: 'you', dir: WORK_DIR }];
    }
    const jobs = options.jobs as number | undefined;
    if (jobs !== undefined && (!(jobs >= 1) || !Number.isInteger(jobs))) throw new UsageError('--jobs takes a whole number of at least 1');
    // Checked before any grading: a batch that cannot write its reports is not worth running.
    const outDir = writableOut((options.out as string | undefined) ?? join(ROOT, 'grades'), graded);
    const writeReports = (g: LearnerGrade) => {
      const dir = join(outDir, g.learner);
      mkdirSync(dir, { recursive: true });
      const classroom = toClassroom(g);
      writeFileSync(join(dir, 'results.json'), toJson(g));
      writeFileSync(join(dir, 'junit.xml'), toJUnit(g));
      writeFileSync(join(dir, 'summary.md'), toMarkdown(g));
      writeFileSync(join(dir, 'classroom.json'), classroom);
      writeFileSync(join(dir, 'classroom.b64'), Buffer.from(classroom).toString('base64') + '\n');
    };
    const t0 = Date.now();
    if (!sandbox)
      out(c.yellow('--no-sandbox: submissions run as your own processes, on shared servers. Grade only code you trust this way.'));
    const gradeAll = async (endpoints: Endpoints, servers?: (lab: Lab) => Promise<StartedServices>) => {
      // Sandboxed services come from each sandbox's own pool: none is forked here ahead of need.
      const hosts = await HostPool.open(sandbox ? 0 : Math.min(16, 2 * (jobs ?? defaultJobs()) + 2));
      const runners = new RunnerSet({ endpoints, hosts });
      try {
        return await gradeSubmissions(labs, subs, {
          runners,
          jobs,
          sandbox,
          servers,
          onLearner: writeReports,
          timeoutMs: ((options.timeout as number | undefined) ?? 300) * 1000,
          onGraded: (g) => {
            const mark = gradeMark(g);
            const paint = mark.word === 'full core' ? c.green : mark.word === 'partial' ? c.yellow : c.red;
            out(
              `${paint(`${mark.symbol} ${mark.word.padEnd(9)}`)} ${g.learner} · ${g.lab}: core ${g.core.points}/${g.core.max}, bonus ${g.bonus.points}/${g.bonus.max} ${c.dim(`(${(g.durationMs / 1000).toFixed(1)} s)`)}`,
            );
          },
        });
      } finally {
        await runners.close();
        await hosts.close();
      }
    };
    const grades: LearnerGrade[] = sandbox
      ? await session.withOwnServers(labs, gradeAll)
      : await session.withServices(labs, (endpoints) => gradeAll(endpoints), step);
    const slugs = labs.map((l) => l.slug);
    writeFileSync(join(outDir, 'class.csv'), classCsv(grades, slugs));
    writeFileSync(join(outDir, 'class-summary.md'), classSummary(grades, slugs));
    out();
    for (const g of grades) {
      out(`${c.bold(g.learner)}: ${g.points}/${g.maxPoints} points`);
      for (const l of g.labs) {
        out(`  ${l.lab.padEnd(18)} core ${l.core.points}/${l.core.max}  bonus ${l.bonus.points}/${l.bonus.max}  hints ${l.hintsUsed}`);
        for (const f of l.integrity) out(c.yellow(`    ! ${f}`));
        if (l.error) out(c.red(`    ! ${l.error.split('\n')[0]}`));
      }
    }
    out(
      c.dim(
        `\n${grades.length} learner(s) × ${labs.length} lab(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s. Reports: ${outDir}/ (class.csv, class-summary.md; per learner results.json, junit.xml, summary.md, classroom.json)`,
      ),
    );
    const min = options['min-score'] as number | undefined;
    if (min !== undefined) {
      const below = grades.filter((g) => g.points < min);
      if (below.length) {
        out(c.red(`below --min-score ${min}: ${below.map((g) => `${g.learner} (${g.points})`).join(', ')}`));
        return 1;
      }
    }
    return 0;
  },
};
