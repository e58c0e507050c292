/**
 * `npm run bench`: the throughput figures, printed in one table with the figures measured before
 * the in-process runner (issue "Throughput") and the goals. Printed, never asserted.
 *
 *   1. `lab test deadlocks --solution`, cold: the CLI starts and stops its own containers
 *   2. the same whole process, warm: containers already up, handed over in LAB_SERVICES
 *   3. `lab test rate-limiting --solution`, warm, the same way
 *   4. a bare `vitest run` of the deadlocks tests on the same warm containers (the floor)
 *   5. watch: save → result, deadlocks (median of 5 saves), split by the trace (trace.ts)
 *   6. grading 20 submissions vs 20 × one, sandboxed and --no-sandbox (skipped with --quick)
 *   7. with --verify: the whole `lab verify` (all labs, all variants), per lab wall and CPU
 *   8. the workshop server: 200 attendees posting every 5 s for 60 s (skipped with --quick;
 *      `--workshop` runs only this one)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServices, stopAll } from '../servers/containers.js';
import { machineCpu } from '../jobs.js';
import { findLab } from '../lab-schema.js';
import { ROOT, STATE_DIR, VITEST_BIN, VITEST_CONFIG } from '../paths.js';
import type { RunResult } from '../runner.js';
import { stageTree } from '../trees.js';
import { watchLab } from '../watch.js';
import { buildClass } from '../test/fixtures/submissions/build-class.js';

const quick = process.argv.includes('--quick');
const withVerify = process.argv.includes('--verify');
const WATCH_RERUNS = 5;
/** A learner saves, reads the result, edits: the bench waits this long between saves. */
const THINK_MS = 2_000;

/** Figures measured before this runner, on a fresh clone on 2 cores (issue "Throughput"). */
const BEFORE = {
  verify: 1630,
  worstLab: 732,
  testDeadlocksWarm: 12.8,
  testRateLimitingWarm: 65,
  watch: 8.4,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const testsMs = (r: RunResult) => r.tests.reduce((a, t) => a + t.durationMs, 0);

/** Runs the CLI as a whole process; returns wall and CPU seconds (its own and its children's). */
function cli(args: string[], env: Record<string, string> = {}) {
  const t0 = performance.now();
  const m0 = machineCpu();
  const r = spawnSync('/bin/sh', ['-c', 'node harness/cli/bin.js "$@"; rc=$?; times; exit $rc', 'lab', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const wall = (performance.now() - t0) / 1000;
  // `times` prints the shell's and then its children's user and system times: "0m1.23s 0m0.45s".
  const lines = r.stdout.trim().split('\n');
  const secs = (s: string) => [...s.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
  const cpu = secs(lines.at(-1) ?? '');
  if (r.status !== 0) throw new Error(`lab ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  // The whole machine's busy CPU: the only figure that counts what runs in containers (servers, a
  // grading sandbox), and anything else the machine was doing meanwhile.
  return { wall, cpu, machine: machineCpu() - m0, stdout: lines.slice(0, -2).join('\n') };
}

interface Row {
  figure: string;
  now: string;
  before?: string;
  must?: string;
  aim?: string;
}
const rows: Row[] = [];
const add = (r: Row) => {
  rows.push(r);
  console.log(`  ${r.figure}: ${r.now}`);
};
const s1 = (x: number) => `${x.toFixed(1)} s`;

console.log('bench: measuring (this prints each figure as it is taken, then the table)\n');
const workshopFigure = async () => {
  const { workshopLoad } = await import('./workshop.js');
  const w = await workshopLoad();
  add({
    figure: `workshop server: ${w.attendees} attendees, a report each every 5 s for 60 s, one board watching, loopback`,
    now: `p95 ${w.p95.toFixed(0)} ms (p50 ${w.p50.toFixed(0)}, p99 ${w.p99.toFixed(0)}, max ${w.max.toFixed(0)}); ${w.acknowledged}/${w.sent} acknowledged, ${w.stored} stored, ${w.lost} lost; the board streamed ${(w.streamed / 1e6).toFixed(1)} MB`,
    aim: 'p95 ≤ 250 ms, 0 lost',
  });
};
if (process.argv.includes('--workshop')) {
  await workshopFigure();
  await stopAll();
  console.log(rows.map((r) => `${r.figure}: ${r.now} (aim ${r.aim})`).join('\n'));
  process.exit(0);
}
const deadlocks = findLab('deadlocks');

// 1. cold
const cold = cli(['test', 'deadlocks', '--solution']);
add({
  figure: '`lab test deadlocks --solution`, cold containers, whole process',
  now: `${s1(cold.wall)} wall, ${s1(cold.cpu)} CPU`,
  before: '15.1 s wall, 10.9 s CPU',
});

const services = await startServices(['postgres', 'redis']);
try {
  const handed = { LAB_SERVICES: JSON.stringify(services.endpoints) };
  // 2. warm (the first run fills the caches: compiled trees, template databases)
  cli(['test', 'deadlocks', '--solution'], handed);
  const warm = [0, 1, 2].map(() => cli(['test', 'deadlocks', '--solution'], handed));
  const w = median(warm.map((x) => x.wall));
  add({
    figure: '`lab test deadlocks --solution`, warm containers, whole process (median of 3)',
    now: `${s1(w)} wall, ${s1(median(warm.map((x) => x.cpu)))} CPU`,
    before: s1(BEFORE.testDeadlocksWarm),
    must: '≤ 5 s',
    aim: '≤ 3 s',
  });

  // 3. rate limiting, warm
  const rl = cli(['test', 'rate-limiting', '--solution'], handed);
  add({
    figure: '`lab test rate-limiting --solution`, warm containers, whole process',
    now: `${s1(rl.wall)} wall, ${s1(rl.cpu)} CPU`,
    before: `~${BEFORE.testRateLimitingWarm} s`,
    must: '≤ 25 s',
    aim: '≤ 15 s',
  });

  // 4. bare vitest on the same warm containers
  const tree = stageTree(deadlocks, { kind: 'solution' });
  const t0 = performance.now();
  mkdirSync(join(STATE_DIR, 'bench'), { recursive: true });
  const bare = spawnSync(process.execPath, [VITEST_BIN, 'run', '--config', VITEST_CONFIG], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, LAB_SLUG: deadlocks.slug, LAB_SRC: tree.src, LAB_SERVICES: JSON.stringify(services.endpoints) },
  });
  if (bare.status !== 0) throw new Error(`bare vitest failed:\n${bare.stdout}\n${bare.stderr}`);
  add({ figure: 'bare `vitest run` of the deadlocks tests, warm (floor; no kit)', now: s1((performance.now() - t0) / 1000) });

  // 5. watch mode, traced
  const copy = join(STATE_DIR, 'bench', 'watch', deadlocks.id, 'src');
  rmSync(join(STATE_DIR, 'bench', 'watch'), { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  cpSync(tree.src, copy, { recursive: true });
  const results: RunResult[] = [];
  let wake: (() => void) | undefined;
  const handle = await watchLab(
    deadlocks,
    { src: copy, label: 'bench copy' },
    {
      endpoints: services.endpoints,
      onResult: (r) => {
        results.push(r);
        wake?.();
      },
    },
  );
  await handle.firstRun;
  const walls: number[] = [];
  const tests: number[] = [];
  for (let i = 0; i < WATCH_RERUNS; i++) {
    await sleep(THINK_MS);
    const waiting = new Promise<void>((r) => (wake = r));
    const now = new Date();
    utimesSync(join(copy, 'app.ts'), now, now);
    await waiting;
    const r = results.at(-1)!;
    walls.push(r.durationMs / 1000);
    tests.push(testsMs(r) / 1000);
  }
  await handle.stop();
  add({
    figure: `watch: save → result, deadlocks (median of ${WATCH_RERUNS}, ${THINK_MS / 1000} s between saves)`,
    now: `${s1(median(walls))} (the tests themselves ${s1(median(tests))})`,
    before: s1(BEFORE.watch),
    must: '≤ 4 s',
    aim: '≤ 2.5 s',
  });

  // 6. grading
  if (!quick) {
    // Reports go outside the kit (lab grade refuses --out inside its own folders).
    const reports = mkdtempSync(join(tmpdir(), 'lab-bench-grades-'));
    const one = join(STATE_DIR, 'bench', 'class-1');
    const many = join(STATE_DIR, 'bench', 'class-20');
    buildClass(one, 1);
    rmSync(many, { recursive: true, force: true });
    // 20 submissions: the solution, so every run does the full work.
    for (let i = 1; i <= 20; i++)
      cpSync(join(one, 'bob-solution'), join(many, `learner-${String(i).padStart(2, '0')}`), { recursive: true });
    // Sandboxed (the default): each submission gets its own servers and its own sandbox container.
    const single = cli(['grade', 'deadlocks', '--target', join(one, 'bob-solution'), '--out', join(reports, 'grades-1')]);
    const twenty = cli(['grade', 'deadlocks', '--submissions', many, '--out', join(reports, 'grades-20')]);
    // Trusted (--no-sandbox): shared warm servers, services forked here.
    const trusted = ['--no-sandbox'];
    const single0 = cli(
      ['grade', 'deadlocks', ...trusted, '--target', join(one, 'bob-solution'), '--out', join(reports, 'grades-1t')],
      handed,
    );
    const twenty0 = cli(['grade', 'deadlocks', ...trusted, '--submissions', many, '--out', join(reports, 'grades-20t')], handed);
    const ratio = (n: { wall: number }, one: { wall: number }) => `${(n.wall / (20 * one.wall)).toFixed(2)} of 20 × one`;
    const fig = (x: { wall: number; machine: number }) => `${s1(x.wall)} wall, ${s1(x.machine)} machine CPU`;
    add({ figure: '`lab grade deadlocks`, one submission, sandboxed', now: fig(single) });
    add({
      figure: '`lab grade deadlocks --submissions`, 20 submissions, sandboxed',
      now: `${fig(twenty)} (${ratio(twenty, single)}; ${s1(twenty.wall / 20)} per submission)`,
      must: 'far less than 20 × one',
    });
    add({ figure: '`lab grade deadlocks --no-sandbox`, one submission, warm', now: fig(single0) });
    add({
      figure: '`lab grade deadlocks --no-sandbox --submissions`, 20, warm',
      now: `${fig(twenty0)} (${ratio(twenty0, single0)}; ${s1(twenty0.wall / 20)} per submission)`,
    });
    add({
      figure: 'the sandbox’s cost per submission, in a batch of 20',
      now: `${s1((twenty.wall - twenty0.wall) / 20)} wall, ${s1((twenty.machine - twenty0.machine) / 20)} machine CPU (own servers + container)`,
    });
    rmSync(reports, { recursive: true, force: true });
  }
} finally {
  await services.stop();
  await stopAll();
}

// 8. the workshop server under a room's load
if (!quick) await workshopFigure();

// 7. the whole verify, cold, with its own containers, as CI runs it
if (withVerify) {
  const v = cli(['verify']);
  const table = v.stdout.split('\n').filter((l) => /^(lab|total|[a-z-]+)\s+\d+\s+\d+/.test(l) || l.startsWith('lab '));
  const perLab = table.filter((l) => !l.startsWith('lab ') && !l.startsWith('total'));
  const worst = perLab.map((l) => ({ l, wall: Number(l.trim().split(/\s+/)[2]) })).sort((a, b) => b.wall - a.wall)[0];
  add({
    figure: '`lab verify`, 5 labs with all variants, whole process',
    now: `${v.wall.toFixed(0)} s wall, ${v.cpu.toFixed(0)} s CPU`,
    before: `${BEFORE.verify} s`,
    must: '≤ 600 s',
    aim: '≤ 360 s',
  });
  if (worst)
    add({
      figure: `the worst lab's verify (${worst.l.trim().split(/\s+/)[0]})`,
      now: `${worst.wall} s`,
      before: `${BEFORE.worstLab} s (rate-limiting)`,
      must: '≤ 180 s',
      aim: '≤ 120 s',
    });
  console.log('\n  lab verify cost table:\n' + table.map((l) => `    ${l}`).join('\n'));
}

const head: Row = { figure: 'figure', now: 'now', before: 'before', must: 'must', aim: 'aim' };
const all = [head, ...rows];
const w = (k: keyof Row) => Math.max(...all.map((r) => (r[k] ?? '').length));
const line = (r: Row) =>
  `${r.figure.padEnd(w('figure'))}  ${r.now.padEnd(w('now'))}  ${(r.before ?? '').padEnd(w('before'))}  ${(r.must ?? '').padEnd(w('must'))}  ${r.aim ?? ''}`;
console.log(`\n${line(head)}\n${rows.map(line).join('\n')}`);
if (!withVerify) console.log('\n(`npm run bench -- --verify` adds the whole `lab verify`, per lab, wall and CPU.)');
writeFileSync(join(STATE_DIR, 'bench', 'last.txt'), `${line(head)}\n${rows.map(line).join('\n')}\n`);
