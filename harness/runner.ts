/**
 * The one mechanism that runs a lab's pristine tests (labs/X/test) against a tree: starter,
 * solution, variant, learner copy or submission. It drives Vitest in this process through its
 * Node API and reads every result through a reporter, as tests finish: `lab test`, `lab watch`,
 * `lab verify` and `lab grade` all run through it.
 *
 * Before a run it compiles the tree once (build.ts) and builds its template database; service
 * instances come from a pool of hosts forked ahead of need (testing/host.ts), shared by every run
 * in the process. Several runners may run at once over one set of servers: each test file still
 * gets its own database and its own Redis logical database.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { dirname, join, relative, sep } from 'node:path';
import { createVitest, type Reporter, type TestCase, type TestModule, type TestSpecification, type Vitest } from 'vitest/node';
import { bundleScript, buildTree, vendorBundle } from './build.js';
import { ensureTemplate } from './databases.js';
import type { Endpoints } from './endpoints.js';
import type { Lab } from './lab-schema.js';
import { LABS_DIR, ROOT, STATE_DIR } from './paths.js';
import { endpointsOf } from './services.js';
import type { ProvidedLab } from './testing/context.js';
import type { Figure } from './testing/evidence.js';
import { HostPool, hostScriptPath } from './testing/host.js';
import type { OpenSandbox } from './servers/sandbox.js';
import { OWN_SIGNAL_HANDLER } from './pids.js';
import { holdIfInterrupted } from './interrupt.js';
import { trace } from './trace.js';
import { stageTree, type StagedTree, type TreeSpec } from './trees.js';

export interface TestResult {
  /** The sentence, as people read it. */
  name: string;
  /** What identifies the test in lab.json, variant.json and grades: points(3, { id: 'storm' }). Missing when a test declares none. */
  id?: string;
  status: 'passed' | 'failed' | 'skipped';
  points: number;
  tier: 'core' | 'bonus';
  durationMs: number;
  failure?: string;
  /** Figures the test recorded (testing/evidence.ts), carried in its meta like its id and points. Never part of a grade. */
  evidence?: Figure[];
}

export interface RunResult {
  lab: string;
  tree: string;
  tests: TestResult[];
  /** Set when the run failed outside any test (setup, schema, a crash at import). */
  error?: string;
  durationMs: number;
}

export interface RunOptions {
  /** Only tests whose names match (a regular expression). */
  filter?: string;
  /** Stop the run after this long; tests that had not finished count as failed. */
  timeoutMs?: number;
  /** Called as each test finishes, before the run ends. */
  onTest?: (t: TestResult) => void;
  /** Servers for this run only (a submission's own), instead of the runner's. */
  endpoints?: Endpoints;
  /**
   * Run the tree's service instances in a grading sandbox (servers/sandbox.ts), attached to this
   * run's servers: for code the grader does not trust.
   */
  sandbox?: boolean;
}

export interface RunnerOptions {
  endpoints: Endpoints;
  /** Hosts shared with other runners; without one the runner keeps its own. */
  hosts?: HostPool;
  /** Test files of one run at once (default: all of them, up to 4). */
  fileWorkers?: number;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * The Vitest options of every lab run. harness/vitest.config.ts uses the same ones, for a bare
 * `vitest run` (the bench's baseline); the runner passes them inline, with no config file, with
 * `include` covering every lab (kitVitestOptions), so that one Vitest and its workers serve them all.
 */
export function labVitestOptions(lab: Lab) {
  return { ...kitVitestOptions(), include: [testGlob(lab.testDir)] };
}

const testGlob = (testDir: string) => join(relative(ROOT, testDir), '**/*.test.ts');

/** What every run shares, whatever the lab: a runner's Vitest includes every lab's tests and runs one lab's at a time. */
function kitVitestOptions() {
  return {
    root: ROOT,
    include: [testGlob(join(LABS_DIR, '*', 'test'))],
    setupFiles: process.env.LAB_TRACE ? [join(ROOT, 'harness', 'trace-setup.ts')] : [],
    // Worker processes, not threads. A worker thread that ends with a request still pending spins
    // in Node's handle clean-up forever, and process.exit() then waits on it for ever: a
    // `verify replication-lag --repeat 20` printed its summary and never exited, five such threads
    // burning CPU (gdb: Environment::CleanupHandles, and the main thread in Worker::JoinThread). A
    // worker process is killed instead. The cost is within noise: deadlocks 31 s wall, 23 s kit CPU
    // (threads: 33 s, 21 s); replication-lag 61 s, 36 s (threads: 59 s, 35 s). The tree under
    // test never runs in a test worker: it runs in service hosts, processes of their own.
    pool: 'forks' as const,
    // A test worker runs the next file of the same run when one is queued (Vitest stops its workers
    // at the end of every run): the libraries (Vitest, pg, ioredis) stay loaded, while the kit's own
    // modules and the test files are evaluated afresh for every file.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    passWithNoTests: false,
    allowOnly: false,
  };
}

/**
 * Servers shared by several labs: a lab sees only those it declares. A lab with a replica gets the
 * replica's primary as its Postgres.
 */
export function endpointsFor(lab: Lab, all: Endpoints): Endpoints {
  const ep = endpointsOf(lab.services, all);
  // A replica lab's Postgres is the replica's primary, which is not `postgres` when the run also
  // has labs without a replica (containers.ts gives those a server of their own).
  if (ep.replicaPrimary) ep.postgres = ep.replicaPrimary;
  delete ep.replicaPrimary;
  if (!lab.farBehind) delete ep.farBehind;
  return ep;
}

/** The libraries a service may use: the kit's own dependencies (package.json). */
export function servicePackages(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(pkg.dependencies ?? {}).sort();
}

/** Stand-ins for the harness modules the sandbox's agent must not load: they look for the kit, or compile. */
const AGENT_STUBS = {
  'paths.ts': `export const ROOT = '/';`,
  'build.ts':
    `export function buildScript() { throw new Error('the sandbox compiles nothing'); }\n` +
    `export function vendorBundle() { return undefined; }`,
};

/** The sandbox's agent, bundled (testing/sandbox-agent.ts), and the service-host script it forks. */
let agentScript: Promise<string> | undefined;
async function sandboxScripts(): Promise<{ agentScript: string; hostScript: string }> {
  agentScript ??= bundleScript(join(ROOT, 'harness', 'testing', 'sandbox-agent.ts'), AGENT_STUBS);
  return { agentScript: await agentScript, hostScript: hostScriptPath() };
}

/**
 * The packages a lab's services import (its starter and its reference solution), for hosts to
 * load while they wait. A tree that imports others still works: they load when it starts.
 */
export function labPackages(lab: Lab): string[] {
  const found = new Set<string>();
  const trees = (lab.trees ?? []).filter((t) => t !== 'solution').map((t) => join(lab.dir, 'trees', t));
  for (const dir of [lab.srcDir, lab.solutionDir, ...trees]) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    } catch {
      continue;
    }
    for (const f of names)
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/\bfrom\s+['"]([^'"./][^'"]*)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:')) continue;
        found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
  }
  return [...found].sort();
}

/**
 * The trees lab.json "trees" lists, staged and compiled for tests to start beside the tree under
 * test: the reference solution, or a tree the lab ships in labs/NN-slug/trees/NAME.
 */
export function otherTrees(lab: Lab): Record<string, { src: string; build: string }> {
  const out: Record<string, { src: string; build: string }> = {};
  for (const name of lab.trees ?? []) {
    const src = name === 'solution' ? stageTree(lab, { kind: 'solution' }).src : join(lab.dir, 'trees', name);
    out[name] = { src, build: buildTree(src, vendorBundle(labPackages(lab))) };
  }
  return out;
}

const DEMAND_FILE = join(STATE_DIR, 'host-demand.json');

/** How many service hosts the last run of this lab took (a one-shot run forks that many ahead). */
function lastDemand(lab: Lab): number | undefined {
  try {
    const n = (JSON.parse(readFileSync(DEMAND_FILE, 'utf8')) as Record<string, number>)[lab.id];
    return typeof n === 'number' && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function recordDemand(lab: Lab, n: number): void {
  let all: Record<string, number> = {};
  try {
    all = JSON.parse(readFileSync(DEMAND_FILE, 'utf8')) as Record<string, number>;
  } catch {
    /* first run */
  }
  all[lab.id] = n;
  try {
    mkdirSync(STATE_DIR, { recursive: true });
    writeFileSync(DEMAND_FILE, JSON.stringify(all, null, 2) + '\n');
  } catch {
    /* only an estimate */
  }
}

/**
 * Creates a Vitest instance without the SIGINT/SIGTERM handlers its logger installs: those exit
 * the process 1 ms after Ctrl-C, before the harness has stopped its containers. The harness's own
 * handlers (containers.ts) stop everything and then exit.
 */
async function createQuietVitest(...args: Parameters<typeof createVitest>): Promise<Vitest> {
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  const v = await createVitest(...args);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    for (const l of process.listeners(sig))
      if (!before[sig].includes(l) && !(l as unknown as Record<symbol, unknown>)[OWN_SIGNAL_HANDLER]) process.off(sig, l);
  return v;
}

/** Vitest's own console output is not shown: the kit prints results in its own words. */
const silent = () => new Writable({ write: (_c, _e, done) => done() });

function failureText(errors: ReadonlyArray<{ name?: string; message?: string }> | undefined): string | undefined {
  if (!errors?.length) return undefined;
  return errors
    .map((e) => `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message ?? String(e)}`)
    .join('\n')
    .replace(ANSI, '');
}

/** What a test declares: its sentence, and beside it (testing/grading.ts) its id, points and tier. */
function declared(tc: TestCase): Pick<TestResult, 'name' | 'id' | 'points' | 'tier'> {
  const meta = tc.meta();
  return { name: tc.name, id: meta.id, points: meta.points ?? 0, tier: meta.tier ?? 'core' };
}

function toResult(tc: TestCase): TestResult {
  const r = tc.result();
  return {
    ...declared(tc),
    status: r.state === 'passed' ? 'passed' : r.state === 'failed' ? 'failed' : 'skipped',
    durationMs: Math.round(tc.diagnostic()?.duration ?? 0),
    failure: r.state === 'failed' ? failureText(r.errors) : undefined,
    ...(tc.meta().evidence?.length ? { evidence: tc.meta().evidence } : {}),
  };
}

/** An error raised outside any test: at import, in a hook, or unhandled. */
function moduleError(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<{ message?: string }>): string | undefined {
  for (const m of modules) {
    const errs = m.errors();
    if (errs.length && ![...m.children.allTests()].some((t) => t.result().state === 'failed')) return failureText(errs);
  }
  return unhandled.length ? failureText(unhandled) : undefined;
}

interface Current {
  onTest?: (t: TestResult) => void;
  seen: Map<string, TestResult>;
}

/**
 * One Vitest instance, reused run after run (one run at a time), for one lab or, moved from lab to
 * lab by a RunnerSet, for several: its workers then boot once for all of them.
 */
export class LabRunner {
  private vitest?: Vitest;
  private current?: Current;
  private ownHosts?: HostPool;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private labNow: Lab,
    private readonly opts: RunnerOptions,
  ) {}

  static async open(lab: Lab, opts: RunnerOptions): Promise<LabRunner> {
    const r = new LabRunner(lab, opts);
    await r.ensureVitest();
    return r;
  }

  /** The lab whose tests run() runs. */
  get lab(): Lab {
    return this.labNow;
  }

  /** Points the runner at another lab's tests, for the runs queued from now on. */
  retarget(lab: Lab): void {
    this.labNow = lab;
  }

  private async hosts(): Promise<HostPool> {
    if (this.opts.hosts) return this.opts.hosts;
    if (!this.ownHosts) {
      const demand = lastDemand(this.labNow);
      this.ownHosts = await HostPool.open(Math.min(4, demand ?? 4), { preload: labPackages(this.labNow), budget: demand });
    }
    return this.ownHosts;
  }

  private async ensureVitest(): Promise<Vitest> {
    if (this.vitest) return this.vitest;
    const hosts = await this.hosts();
    const reporter: Reporter = {
      onTestCaseResult: (tc) => {
        const cur = this.current;
        if (!cur) return;
        const t = toResult(tc);
        cur.seen.set(tc.id, t);
        cur.onTest?.(t);
      },
    };
    trace('vitest-create');
    this.vitest = await createQuietVitest(
      'test',
      {
        config: false,
        watch: false,
        ...kitVitestOptions(),
        maxWorkers: this.opts.fileWorkers ?? 4,
        reporters: [reporter],
        env: { LAB_HOST_POOL: hosts.socketPath },
      },
      { server: { watch: null }, logLevel: 'silent' },
      { stdout: silent(), stderr: silent() },
    );
    return this.vitest;
  }

  /** Runs the lab's tests against one tree; never rejects for a failure of the tree itself. */
  run(spec: TreeSpec | StagedTree, opts: RunOptions = {}): Promise<RunResult> {
    const lab = this.labNow;
    const next = this.queue.then(() => this.runNow(lab, spec, opts));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(lab: Lab, spec: TreeSpec | StagedTree, opts: RunOptions): Promise<RunResult> {
    const t0 = Date.now();
    const tree = 'src' in spec ? spec : stageTree(lab, spec);
    const result: RunResult = { lab: lab.slug, tree: tree.label, tests: [], durationMs: 0 };
    const done = () => ((result.durationMs = Date.now() - t0), result);
    let sandbox: OpenSandbox | undefined;
    try {
      return await this.runIn(lab, tree, opts, result, done, (s) => (sandbox = s));
    } finally {
      await sandbox?.close();
      // Stopped by Ctrl-C: the servers went away under the run, and its failures are not the
      // tree's. No caller gets them (interrupt.ts).
      await holdIfInterrupted();
    }
  }

  private async runIn(
    lab: Lab,
    tree: StagedTree,
    opts: RunOptions,
    result: RunResult,
    done: () => RunResult,
    opened: (s: OpenSandbox) => void,
  ): Promise<RunResult> {
    let provided: ProvidedLab;
    try {
      // A sandboxed tree gets every library a service may use in its vendor bundle: nothing else
      // is in the sandbox to load.
      const packages = opts.sandbox ? [...new Set([...servicePackages(), ...labPackages(lab)])] : labPackages(lab);
      const vendor = vendorBundle(packages);
      if (opts.sandbox && !vendor) throw new Error('the grading sandbox needs the libraries bundled, and they could not be (see build.ts)');
      const build = buildTree(tree.src, vendor, opts.sandbox);
      let ep = endpointsFor(lab, opts.endpoints ?? this.opts.endpoints);
      let sandboxed: ProvidedLab['sandbox'];
      if (opts.sandbox) {
        const { openSandbox } = await import('./servers/sandbox.js');
        const box = await openSandbox({
          build,
          vendorDir: dirname(vendor!.bundle),
          vendorBundle: vendor!.bundle,
          ...(await sandboxScripts()),
          preload: packages,
          endpoints: ep,
          // Servers given for this run alone (a submission's own) are isolated with it.
          ownServers: opts.endpoints !== undefined,
        });
        opened(box);
        ep = box.endpoints;
        sandboxed = { pool: box.pool, side: box.side, address: box.address };
      }
      const template = ep.postgres ? await ensureTemplate(ep.postgres, join(tree.src, 'schema.sql')) : '';
      provided = {
        slug: lab.slug,
        src: tree.src,
        build,
        endpoints: ep,
        template,
        settings: lab.settings,
        sandbox: sandboxed,
        trees: otherTrees(lab),
      };
    } catch (e) {
      result.error = (e as Error).message;
      return done();
    }
    const vitest = await this.ensureVitest();
    for (const p of vitest.projects) p.provide('lab', provided);
    if (opts.filter) vitest.setGlobalTestNamePattern(opts.filter);
    else vitest.resetGlobalTestNamePattern();
    const cur: Current = { onTest: opts.onTest, seen: new Map() };
    const takenBefore = this.ownHosts?.takenCount ?? 0;
    this.current = cur;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let specs: TestSpecification[] = [];
    try {
      trace('run-start');
      const mine = lab.testDir + sep;
      specs = (await vitest.getRelevantTestSpecifications()).filter((sp) => sp.moduleId.startsWith(mine));
      if (specs.length === 0) throw new Error(`${lab.id} has no test files in ${relative(ROOT, lab.testDir)}`);
      const running = vitest.runTestSpecifications(specs, true);
      const outcome = await (opts.timeoutMs
        ? Promise.race([running, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), opts.timeoutMs)))])
        : running);
      if (outcome === 'timeout') {
        timedOut = true;
        // A hung submission: stop its workers (and with them its service processes) for good.
        const stale = this.vitest;
        this.vitest = undefined;
        await closeWithin(stale);
      } else {
        // Only this run's files: Vitest's state also holds the modules of earlier runs (other labs).
        const ran = new Set(specs.map((sp) => sp.moduleId));
        const modules = [...outcome.testModules].filter((m) => ran.has(m.moduleId)).sort((a, b) => a.moduleId.localeCompare(b.moduleId));
        for (const m of modules) for (const tc of m.children.allTests()) result.tests.push(cur.seen.get(tc.id) ?? toResult(tc));
        result.error = moduleError(modules, outcome.unhandledErrors as { message?: string }[]);
      }
    } catch (e) {
      result.error = (e as Error).message.replace(ANSI, '');
    } finally {
      clearTimeout(timer);
      this.current = undefined;
      if (this.ownHosts && !opts.filter) recordDemand(lab, this.ownHosts.takenCount - takenBefore);
      trace('run-end');
    }
    if (timedOut) {
      result.tests = [...cur.seen.values()];
      result.error = `the run was stopped after ${Math.round(opts.timeoutMs! / 1000)} s`;
    }
    return done();
  }

  async close(): Promise<void> {
    await this.queue;
    const v = this.vitest;
    this.vitest = undefined;
    await closeWithin(v);
    await this.ownHosts?.close();
  }
}

/**
 * Closes a Vitest instance, waiting at most `ms`. Seen once, after a `verify --repeat 20` of 240
 * runs: a test worker thread that would not stop, spinning in Node's Environment::CleanupHandles,
 * and close() waiting on it for ever, with every result already in but no summary printed. The
 * CLI exits with process.exit() after its command, which ends such a thread.
 */
async function closeWithin(vitest: Vitest | undefined, ms = 10_000): Promise<void> {
  if (!vitest) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
  const how = await Promise.race([vitest.close().then(() => 'closed' as const), late]);
  clearTimeout(timer);
  if (how === 'late') trace('vitest-close-timeout');
}

/**
 * Runners to share among concurrent work (verify's trees, grade's submissions), across labs: each
 * piece of work borrows an idle runner, pointed at its lab, or opens one, and gives it back after
 * its run. Keep one set for a whole command, so that Vitest and its workers start once.
 */
export class RunnerSet {
  private readonly idle: LabRunner[] = [];
  private readonly all: LabRunner[] = [];

  constructor(private readonly opts: RunnerOptions) {}

  async use<T>(lab: Lab, fn: (r: LabRunner) => Promise<T>): Promise<T> {
    // Prefer a runner that last ran this lab: its workers have its test files' imports loaded.
    const i = this.idle.findIndex((r) => r.lab.id === lab.id);
    let runner = i >= 0 ? this.idle.splice(i, 1)[0] : this.idle.pop();
    if (!runner) {
      runner = await LabRunner.open(lab, this.opts);
      this.all.push(runner);
    }
    runner.retarget(lab);
    try {
      return await fn(runner);
    } finally {
      this.idle.push(runner);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((r) => r.close()));
    this.all.length = 0;
    this.idle.length = 0;
  }
}

/** Runs a lab's tests once against one tree, over servers already started. */
export async function runLabTests(lab: Lab, spec: TreeSpec | StagedTree, opts: RunOptions & RunnerOptions): Promise<RunResult> {
  const runner = await LabRunner.open(lab, opts);
  try {
    return await runner.run(spec, opts);
  } finally {
    await runner.close();
  }
}

/**
 * The lab's tests with their points, without running any and without any server: Vitest
 * collects them. Used to know the maximum score even when a run dies.
 */
export async function collectTests(lab: Lab): Promise<TestResult[]> {
  const vitest = await createQuietVitest(
    'test',
    { config: false, watch: false, ...labVitestOptions(lab), reporters: [] },
    { server: { watch: null }, logLevel: 'silent' },
    { stdout: silent(), stderr: silent() },
  );
  try {
    const { testModules } = await vitest.collect();
    const tests: TestResult[] = [];
    for (const m of [...testModules].sort((a, b) => a.moduleId.localeCompare(b.moduleId))) {
      const errs = m.errors();
      if (errs.length) throw new Error(`could not collect the tests of ${lab.id}: ${failureText(errs)}`);
      for (const tc of m.children.allTests()) tests.push({ ...declared(tc), status: 'skipped', durationMs: 0 });
    }
    if (tests.length === 0) throw new Error(`could not collect the tests of ${lab.id}: none found`);
    return tests;
  } finally {
    await vitest.close();
  }
}
