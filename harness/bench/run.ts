/**
 * `npm run bench`: wall times and ratios for the harness, printed, never asserted.
 *   1. `lab test deadlocks --solution` with cold containers (the CLI starts and stops them)
 *   2. the same run, warm (containers already up)
 *   3. a bare `vitest run` of the same test files against the same warm containers
 *   4. watch mode: save → results, minus the time the tests themselves report, split into parts
 *   5. grading 20 submissions vs 20 × one submission
 * Pass --quick to skip 5.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServices, stopAll } from '../containers.js';
import { findLab } from '../lab-schema.js';
import { ROOT, STATE_DIR, VITEST_BIN, VITEST_CONFIG } from '../paths.js';
import { runLabTests, type RunResult } from '../runner.js';
import { stageTree } from '../trees.js';
import { watchLab } from '../watch.js';
import { buildClass } from '../test/fixtures/submissions/build-class.js';

const lab = findLab(process.env.BENCH_LAB ?? 'deadlocks');
const quick = process.argv.includes('--quick');
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const time = <T>(fn: () => T) => {
  const t0 = performance.now();
  const v = fn();
  return { v, ms: performance.now() - t0 };
};
const timeAsync = async <T>(fn: () => Promise<T>) => {
  const t0 = performance.now();
  const v = await fn();
  return { v, ms: performance.now() - t0 };
};
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'harness/cli/bin.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
const testsMs = (r: RunResult) => r.tests.reduce((a, t) => a + t.durationMs, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WATCH_RERUNS = 5;
/** A learner saves, reads the result, edits: the bench waits this long between saves. */
const THINK_MS = 2_000;

interface Rerun {
  wall: number;
  tests: number;
  overhead: number;
  notice: number;
  boot: number;
  load: number;
  setup: number;
  teardown: number;
  report: number;
  rest: number;
}

/** Splits one rerun's trace (see trace.ts) into where its time went. */
function splitRerun(traceText: string, tests: number): Rerun {
  const events = traceText
    .trim()
    .split('\n')
    .map((l) => {
      const [t, pid, event] = l.split(' ');
      return { t: Number(t), pid: pid!, event: event! };
    });
  const first = (e: string) => events.find((x) => x.event === e)?.t ?? NaN;
  const last = (e: string) => events.findLast((x) => x.event === e)?.t ?? NaN;
  /** Sum over test workers of the time from `from` to `to` in each. */
  const span = (from: string, to: string) => {
    let sum = 0;
    for (const pid of new Set(events.map((x) => x.pid))) {
      const a = events.find((x) => x.pid === pid && x.event === from);
      const b = events.find((x) => x.pid === pid && x.event === to);
      if (a && b) sum += b.t - a.t;
    }
    return sum;
  };
  const save = first('save');
  const wall = last('result') - save;
  const notice = first('rerun') - save;
  const boot = first('worker-booted') - first('rerun');
  const load = first('fixture-setup') - first('worker-booted');
  const setup = span('fixture-setup', 'fixture-ready');
  const teardown = span('fixture-teardown', 'fixture-done');
  const report = last('result') - last('fixture-done');
  const overhead = wall - tests;
  return {
    wall,
    tests,
    overhead,
    notice,
    boot,
    load,
    setup,
    teardown,
    report,
    rest: overhead - notice - boot - load - setup - teardown - report,
  };
}
const rows: [string, string][] = [];
const row = (k: string, v: string) => {
  rows.push([k, v]);
  console.log(`${k.padEnd(58)} ${v}`);
};

console.log(`bench: lab ${lab.slug}, solution tree\n`);

// 1. cold
const cold = time(() => cli('test', lab.slug, '--solution'));
if (cold.v.status !== 0) throw new Error(`cold run failed:\n${cold.v.stdout}\n${cold.v.stderr}`);
row('1. lab test --solution, cold containers', s(cold.ms));

const services = await startServices(lab.services);
try {
  const tree = stageTree(lab, { kind: 'solution' });
  // 2. warm (first run warms tsx's cache and the template database; measure the second)
  await runLabTests(lab, tree, { endpoints: services.endpoints, output: 'quiet' });
  const warm = await timeAsync(() => runLabTests(lab, tree, { endpoints: services.endpoints, output: 'quiet' }));
  row('2. the same, warm containers', s(warm.ms));

  // 3. bare vitest against the same containers
  const bare = time(() =>
    spawnSync(process.execPath, [VITEST_BIN, 'run', '--config', VITEST_CONFIG], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, LAB_SLUG: lab.slug, LAB_SRC: tree.src, LAB_SERVICES: JSON.stringify(services.endpoints) },
    }),
  );
  row('3. bare vitest run, warm containers', s(bare.ms));
  row('   tests themselves (sum of test durations)', s(testsMs(warm.v)));
  row('   ratio cold / bare', `${(cold.ms / bare.ms).toFixed(2)}×`);
  row('   ratio warm / bare (harness overhead)', `${(warm.ms / bare.ms).toFixed(2)}×`);

  // 4. watch mode. Every process traces its steps (trace.ts), which splits each rerun into parts.
  const copy = join(STATE_DIR, 'bench', 'watch', lab.id, 'src');
  rmSync(join(STATE_DIR, 'bench', 'watch'), { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  cpSync(tree.src, copy, { recursive: true });
  const traceFile = join(STATE_DIR, 'bench', 'watch', 'trace.log');
  process.env.LAB_TRACE = traceFile;
  const results: RunResult[] = [];
  let wake: (() => void) | undefined;
  const handle = watchLab(
    lab,
    { src: copy, label: 'bench copy' },
    {
      endpoints: services.endpoints,
      output: 'quiet',
      onResult: (r) => {
        results.push(r);
        wake?.();
      },
    },
  );
  const nextResult = () => new Promise<void>((r) => (wake = r));
  await nextResult(); // the initial run
  const reruns: Rerun[] = [];
  for (let i = 0; i < WATCH_RERUNS; i++) {
    await sleep(THINK_MS);
    writeFileSync(traceFile, '');
    const waiting = nextResult();
    const now = new Date();
    utimesSync(join(copy, 'app.ts'), now, now);
    await waiting;
    reruns.push(splitRerun(readFileSync(traceFile, 'utf8'), testsMs(results.at(-1)!)));
  }
  await handle.stop();
  delete process.env.LAB_TRACE;
  const med = (k: keyof Rerun) => median(reruns.map((r) => r[k]));
  const ms = (x: number) => `${Math.round(x)} ms`;
  row(`4. watch: save → results (median of ${WATCH_RERUNS}, ${THINK_MS / 1000} s between saves)`, s(med('wall')));
  row('   tests themselves (sum of test durations)', s(med('tests')));
  row('   overhead beyond the tests themselves', `${ms(med('overhead'))} (goal ≤ 300 ms)`);
  row('     save noticed → rerun starts (debounce, IPC)', ms(med('notice')));
  row("     Vitest boots a test worker (Vitest's own)", ms(med('boot')));
  row('     worker loads the test file and the harness', ms(med('load')));
  row('     useLab setup: test database + service instances', ms(med('setup')));
  row('     useLab teardown: stop instances, drop database', ms(med('teardown')));
  row('     report written → result shown', ms(med('report')));
  row('     the rest (between tests, Vitest bookkeeping)', ms(med('rest')));
} finally {
  await services.stop();
  await stopAll();
}

// 5. grading
if (!quick) {
  const one = join(STATE_DIR, 'bench', 'class-1');
  const many = join(STATE_DIR, 'bench', 'class-20');
  buildClass(one, 1);
  rmSync(many, { recursive: true, force: true });
  // 20 submissions: the solution, so every run does the full work.
  for (let i = 1; i <= 20; i++) cpSync(join(one, 'bob-solution'), join(many, `learner-${String(i).padStart(2, '0')}`), { recursive: true });
  const single = time(() => cli('grade', lab.slug, '--target', join(one, 'bob-solution'), '--out', join(STATE_DIR, 'bench', 'grades-1')));
  if (single.v.status !== 0) throw new Error(`grading one failed:\n${single.v.stdout}\n${single.v.stderr}`);
  const twenty = time(() => cli('grade', lab.slug, '--submissions', many, '--out', join(STATE_DIR, 'bench', 'grades-20')));
  if (twenty.v.status !== 0) throw new Error(`grading twenty failed:\n${twenty.v.stdout}\n${twenty.v.stderr}`);
  row('5. lab grade, one submission', s(single.ms));
  row('   lab grade --submissions, 20 submissions', s(twenty.ms));
  row('   ratio 20 / (20 × one)', `${(twenty.ms / (20 * single.ms)).toFixed(2)}`);
}
