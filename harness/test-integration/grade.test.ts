/**
 * End to end: `lab grade --submissions` on the fixture class (see
 * harness/test/fixtures/submissions/README.md), through the real CLI, containers and all: nine
 * honest or broken submissions and the hostile ones, graded in one batch, in the sandbox.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildClass, EXPECTED, HOSTILE } from '../test/fixtures/submissions/build-class.js';
import { ROOT, STATE_DIR } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'lab-grade-'));
const classDir = join(work, 'class');
const outDir = join(work, 'grades');
const SECRET = `grader-secret-${randomBytes(8).toString('hex')}`;
let run: ReturnType<typeof spawnSync>;

const unpacked = () => readdirSync(tmpdir()).filter((f) => f.startsWith('lab-submission-'));
let unpackedBefore: string[];

/**
 * A digest of a folder: every file's path and contents (or, with `listing`, its path, size and
 * modification time: for node_modules, which is large). `skip` names top-level entries the harness
 * itself rewrites on every run (compiled and staged trees).
 */
function digestOf(dir: string, opts: { listing?: boolean; skip?: (top: string) => boolean } = {}): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      const rel = relative(dir, p);
      if (d === dir && opts.skip?.(e)) continue;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isSymbolicLink()) h.update(rel).update('\0->').update(readlinkSync(p)).update('\0');
      else
        h.update(rel)
          .update('\0')
          .update(opts.listing ? `${st.size}:${st.mtimeMs}` : readFileSync(p))
          .update('\0');
    }
  };
  if (existsSync(dir)) walk(dir);
  return h.digest('hex');
}

/** What a submission must never change: the kit's labs, harness, solutions, state and libraries. */
const kitDigests = () => ({
  labs: digestOf(join(ROOT, 'labs')),
  harness: digestOf(join(ROOT, 'harness')),
  solutions: digestOf(join(ROOT, 'solutions')),
  '.lab': digestOf(STATE_DIR, { skip: (e) => e === 'build' || e === 'trees' }),
  node_modules: digestOf(join(ROOT, 'node_modules'), { listing: true, skip: (e) => e.startsWith('.') }),
});
let before: ReturnType<typeof kitDigests>;

beforeAll(() => {
  // Something for the hostile learners to steal: the progress key, as `lab test` makes it.
  const key = join(STATE_DIR, 'progress.key');
  if (!existsSync(key)) writeFileSync(key, randomBytes(32).toString('hex'), { mode: 0o600 });
  buildClass(classDir, 1, { kit: ROOT, out: outDir });
  unpackedBefore = unpacked();
  before = kitDigests();
  run = spawnSync(
    process.execPath,
    [join(ROOT, 'harness/cli/bin.js'), 'grade', 'deadlocks', '--submissions', classDir, '--out', outDir, '--jobs', '2', '--timeout', '180'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true', GRADER_SECRET: SECRET } },
  );
}, 900_000);

const resultsOf = (learner: string) => JSON.parse(readFileSync(join(outDir, learner, 'results.json'), 'utf8'));

describe('lab grade --submissions', () => {
  test('when grading ran then it exits 0 whatever the scores', () => {
    expect(run.status, String(run.stderr) + String(run.stdout)).toBe(0);
  });

  test('when the class is graded then every learner gets the expected points, flags and errors', () => {
    const rows = readFileSync(join(outDir, 'class.csv'), 'utf8').trim().split('\n');
    const header = rows[0]!.split(',');
    expect(header.slice(0, 10)).toEqual([
      'learner',
      'deadlocks mark',
      'deadlocks core',
      'deadlocks core max',
      'deadlocks bonus',
      'deadlocks bonus max',
      'deadlocks points',
      'deadlocks max',
      'deadlocks hints',
      'deadlocks graded at',
    ]);
    expect(header.slice(10, -3)).toHaveLength(7); // one column per test, by id
    expect(header.slice(10, -3)).toContain('deadlocks: storm');
    expect(header.slice(-3)).toEqual(['total', 'max', 'flags']);
    const got = Object.fromEntries(
      Object.keys(EXPECTED).map((learner) => {
        const json = JSON.parse(readFileSync(join(outDir, learner, 'results.json'), 'utf8'));
        const lab = json.labs[0];
        return [
          learner,
          {
            points: json.points,
            max: json.maxPoints,
            flags: EXPECTED[learner as keyof typeof EXPECTED].flags.filter((f) => lab.integrity.some((i: string) => i.startsWith(f))),
            error: lab.error !== null,
          },
        ];
      }),
    );
    const want = Object.fromEntries(
      Object.entries(EXPECTED).map(([k, v]) => [k, { points: v.points, max: 12, flags: v.flags, error: v.error }]),
    );
    expect(got).toEqual(want);
  });

  test('when learners are graded then each line marks core points honestly: an untouched starter is partial, never ✔', () => {
    const out = String(run.stdout);
    expect(out).toMatch(/◐ partial\s+alice-starter · deadlocks: core \d+\/\d+, bonus 0\/\d+/);
    expect(out).toMatch(/✔ full core\s+bob-solution · deadlocks: core (\d+)\/\1, bonus (\d+)\/\2/);
    expect(out).not.toMatch(/✔[^\n]*alice-starter/);
    expect(readFileSync(join(outDir, 'class-summary.md'), 'utf8')).toMatch(/## deadlocks\n\nfull core \d+ · partial \d+ · zero \d+/);
  });

  test('when a learner is graded then their reports are written at once, not when the whole batch ends', () => {
    const written = Object.keys(EXPECTED).map((learner) => statSync(join(outDir, learner, 'results.json')).mtimeMs);
    const end = statSync(join(outDir, 'class.csv')).mtimeMs;
    expect(end - Math.min(...written), 'ms between the first learner’s reports and the end of the batch').toBeGreaterThan(1_000);
  });

  test('when archives were graded then their unpacked copies are gone', () => {
    expect(unpacked().filter((f) => !unpackedBefore.includes(f))).toEqual([]);
  });

  test('when a submission edited its tests then they were not used', () => {
    const json = JSON.parse(readFileSync(join(outDir, 'dave-edited-tests', 'results.json'), 'utf8'));
    const storm = json.labs[0].tests.find((t: { id: string }) => t.id === 'storm');
    expect(storm.status).toBe('failed');
    expect(json.labs[0].tests).toHaveLength(7);
  });

  test('when hostile submissions are graded in the batch then each is contained: it scores what its code earns, and steals nothing', () => {
    for (const [learner, want] of Object.entries(HOSTILE)) {
      const json = resultsOf(learner);
      const lab = json.labs[0];
      expect(lab.sandboxed, learner).toBe(true);
      if (want.points !== undefined) expect(json.points, `${learner}: ${lab.error ?? ''}`).toBe(want.points);
      if (want.leaks) {
        // The attack ran (it reports through its error) and found nothing.
        expect(lab.error, learner).toMatch(/LEAK \[\]/);
      }
    }
    const everything = readdirSync(outDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
      .join('\n');
    expect(everything.includes(SECRET), 'the grader’s secret appears in a report').toBe(false);
    expect(everything).not.toMatch(/kara was here/);
    expect(readFileSync(join(classDir, 'alice-starter', '01-deadlocks', 'src', 'app.ts'), 'utf8')).not.toMatch(/kara was here/);
  });

  test('when a submission forged its report from a detached watcher then the report still says what it scored, after grading too', async () => {
    await new Promise((r) => setTimeout(r, 2_000)); // a watcher that outlived grading would have rewritten it by now
    expect(resultsOf('leo-forges-report').points).toBe(3);
    const csv = readFileSync(join(outDir, 'class.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(1 + Object.keys(EXPECTED).length + Object.keys(HOSTILE).length);
    expect(existsSync(join(STATE_DIR, 'runs', 'forged.json'))).toBe(false);
  });

  test('when the batch is over then the kit’s labs, harness, solutions, state and node_modules are unchanged (by hash)', () => {
    expect(kitDigests()).toEqual(before);
  });

  test('when the batch is over then no container, network or process of it is left', () => {
    const owner = `dev.backend-labs.owner=${run.pid}`;
    const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
    expect(docker('ps', '-aq', '--filter', `label=${owner}`)).toBe('');
    expect(docker('network', 'ls', '-q', '--filter', `label=${owner}`)).toBe('');
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /sleep (600|3600)|setInterval\(\(\) => \{\}, 1000\)|leo-forges-report|lab-sandbox-agent/.test(l));
    expect(left).toEqual([]);
  });

  test('when grading is stopped with Ctrl-C while a sandbox runs then it exits 130, writes no report, and its container, network and servers are gone', async () => {
    const cli = spawn(
      process.execPath,
      [join(ROOT, 'harness/cli/bin.js'), 'grade', 'deadlocks', '--target', join(classDir, 'bob-solution'), '--out', join(work, 'stopped')],
      { cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    cli.stdout.on('data', (d) => (output += d));
    cli.stderr.on('data', (d) => (output += d));
    const owner = `label=dev.backend-labs.owner=${cli.pid}`;
    const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
    const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (!docker('ps', '-q', '--filter', owner, '--filter', 'label=dev.backend-labs.sandbox') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(docker('ps', '-q', '--filter', owner, '--filter', 'label=dev.backend-labs.sandbox'), 'no sandbox started').not.toBe('');
    cli.kill('SIGINT');
    expect(await exited, output).toBe(130);
    // Its servers were taken away mid-run: whatever its tests did then is not the submission's score.
    expect(existsSync(join(work, 'stopped', 'bob-solution', 'results.json')), output).toBe(false);
    expect(docker('ps', '-aq', '--filter', owner)).toBe('');
    expect(docker('network', 'ls', '-q', '--filter', owner)).toBe('');
  });

  test('when reports are written then each learner has JSON, JUnit, Markdown and Classroom output', () => {
    const dir = join(outDir, 'bob-solution');
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toMatch(/<testsuite name="bob-solution · deadlocks" tests="7" failures="0"/);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/^# bob-solution: 12\/12 points/);
    const classroom = JSON.parse(Buffer.from(readFileSync(join(dir, 'classroom.b64'), 'utf8'), 'base64').toString());
    expect(classroom).toMatchObject({ version: 1, status: 'pass', max_score: 12 });
    expect(classroom.tests.reduce((a: number, t: { score: number }) => a + t.score, 0)).toBe(12);
  });
});
