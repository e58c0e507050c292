/**
 * Service hosts as tests use them: killing an instance with a signal and observing how it ended, a
 * tree's worker entry point (createWorker), and two trees of one lab at once (lab.json "trees").
 * Real processes, through both paths a test worker has (a host forked here, and one from a pool);
 * no container is needed.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildTree } from '../build.js';
import { loadLab } from '../lab-schema.js';
import { LabError } from '../errors.js';
import { otherTrees } from '../runner.js';
import { HostPool, launchHost, ServiceStartError, type HostHandle, type StartRequest } from '../testing/host.js';
import { startService, startWorkers } from '../testing/service.js';

/** A service that uses nothing but node:http, so no server is needed; settings choose how it meets SIGTERM. */
const appSource = (tree: string) => `
import { createServer } from 'node:http';
export function createApp(config: { settings: Record<string, unknown> }) {
  const onTerm = config.settings.onSigterm;
  if (onTerm === 'exit-3-after-200ms') process.on('SIGTERM', () => setTimeout(() => process.exit(3), 200));
  if (onTerm === 'ignore') process.on('SIGTERM', () => undefined);
  const app = {
    listen(port: number, host: string, cb: () => void) {
      const s = createServer((_req, res) => res.end(JSON.stringify({ tree: ${JSON.stringify(tree)}, pid: process.pid })));
      s.listen(port, host, cb);
      return s;
    },
  };
  let server: import('node:http').Server | undefined;
  if (onTerm === 'close-server-then-exit-4') process.on('SIGTERM', () => server!.close(() => process.exit(4)));
  return { app, close: async () => undefined, started: (s: import('node:http').Server) => (server = s) };
}
export function createWorker(config: { settings: Record<string, unknown> }) {
  const timer = setInterval(() => console.log('worker ${tree} tick'), 20);
  return { close: async () => { clearInterval(timer); console.log('worker ${tree} closed'); } };
}
`;

let kit: string;
let buildA: string;
const handles: HostHandle[] = [];

beforeAll(() => {
  kit = mkdtempSync(join(tmpdir(), 'host-kit-'));
  const lab = join(kit, 'labs', '01-two-trees');
  for (const d of ['src', 'trees/v1', 'test']) mkdirSync(join(lab, d), { recursive: true });
  mkdirSync(join(kit, 'solutions', '01-two-trees'), { recursive: true });
  writeFileSync(join(lab, 'src', 'app.ts'), appSource('starter'));
  writeFileSync(join(lab, 'trees', 'v1', 'app.ts'), appSource('v1'));
  writeFileSync(join(kit, 'solutions', '01-two-trees', 'app.ts'), appSource('solution'));
  writeFileSync(
    join(lab, 'lab.json'),
    JSON.stringify({
      slug: 'two-trees',
      title: 'Two trees',
      question: 'Can two trees run at once?',
      level: 'advanced',
      questions: [24],
      services: ['postgres'],
      hints: ['one hint here', 'two hints here', 'three hints here'],
      starter: { fails: ['x'] },
      trees: ['v1', 'solution'],
    }),
  );
  buildA = buildTree(join(lab, 'src'));
});

afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
});

const request = (over: Partial<StartRequest> = {}): StartRequest => ({
  index: 0,
  src: join(kit, 'labs', '01-two-trees', 'src'),
  build: buildA,
  config: { databaseUrl: 'postgres://unused', settings: {} },
  appName: 'host-test',
  timeoutMs: 20_000,
  ...over,
});

async function launch(over: Partial<StartRequest> = {}): Promise<HostHandle> {
  const h = await launchHost(request(over));
  handles.push(h);
  return h;
}

const settings = (s: Record<string, unknown>) => ({ config: { databaseUrl: 'postgres://unused', settings: s } });

/** Both ways a test worker gets a host: forked in the worker, or taken from the run's pool over its socket. */
describe.each([
  ['forked here', false],
  ['from a host pool', true],
])('kill(signal), hosts %s', (_how, pooled) => {
  let pool: HostPool | undefined;
  beforeAll(async () => {
    if (!pooled) return;
    pool = await HostPool.open(2, { preload: [] });
    process.env.LAB_HOST_POOL = pool.socketPath;
  });
  afterAll(async () => {
    delete process.env.LAB_HOST_POOL;
    await pool?.close();
  });

  test('when an instance is sent SIGKILL then it ends by that signal, at once, and says so', async () => {
    const h = await launch();
    const status = await h.kill('SIGKILL');
    expect(status).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(status.ms).toBeGreaterThanOrEqual(0);
    expect(status.ms, 'a SIGKILLed process is gone within a second, even on a busy machine').toBeLessThan(5_000);
    expect(h.exited()).toBe(true);
    expect(h.exitStatus()).toMatchObject({ code: null, signal: 'SIGKILL' });
  });

  test('when a service that handles nothing is sent SIGTERM then it ends by the signal (the host adds no handler of its own)', async () => {
    const h = await launch();
    expect(await h.kill('SIGTERM')).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  test('when a service handles SIGTERM then its own exit code and how long it took are observed', async () => {
    const h = await launch(settings({ onSigterm: 'exit-3-after-200ms' }));
    const status = await h.kill('SIGTERM');
    expect(status).toMatchObject({ code: 3, signal: null });
    // It waits 200 ms before exiting; the timer can only make that later.
    expect(status.ms).toBeGreaterThanOrEqual(190);
    expect(status.forced).toBeUndefined();
  });

  test('when createApp returns started(server) then it is handed the listening server (to close it on SIGTERM)', async () => {
    const h = await launch(settings({ onSigterm: 'close-server-then-exit-4' }));
    expect(await h.kill('SIGTERM')).toMatchObject({ code: 4, signal: null });
  });

  test('when a service ignores SIGTERM past waitMs then it is SIGKILLed and the status says forced', async () => {
    const h = await launch(settings({ onSigterm: 'ignore' }));
    const status = await h.kill('SIGTERM', { waitMs: 300 });
    expect(status).toMatchObject({ signal: 'SIGKILL', forced: true });
    expect(status.ms).toBeGreaterThanOrEqual(290);
  });

  test('when a worker entry point is started then createWorker runs in its own process, with no port, and close() stops it', async () => {
    const h = await launch({ entry: 'worker' });
    expect(h.port).toBe(0);
    const until = Date.now() + 5_000;
    while (!h.logs().includes('worker starter tick') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(h.logs()).toContain('worker starter tick');
    expect(h.pid).not.toBe(process.pid);
    await h.close();
    expect(h.exited()).toBe(true);
    expect(h.exitStatus()).toMatchObject({ code: 0 });
  });
});

describe('worker entry point', () => {
  test('when a tree exports no createWorker then starting a worker fails in one line that names it', async () => {
    const src = mkdtempSync(join(tmpdir(), 'no-worker-'));
    writeFileSync(join(src, 'app.ts'), `export function createApp() { return { app: {}, close: async () => undefined }; }\n`);
    const err = await launchHost(request({ src, build: buildTree(src), entry: 'worker' })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ServiceStartError);
    expect((err as Error).message).toMatch(/does not export createWorker\(config\)/);
  });

  test('when workers are started through startWorkers then each is a process of its own, and they can be killed one by one', async () => {
    const workers = await startWorkers({ src: request().src, build: buildA, config: request().config as never, instances: 2 });
    try {
      const [a, b] = workers.instances;
      expect(a!.pid).not.toBe(b!.pid);
      expect(workers.appName).toMatch(/^lab-worker-/);
      expect(await a!.kill('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
      expect(a!.exited()).toBe(true);
      expect(b!.exited()).toBe(false);
    } finally {
      await workers.close();
    }
  });
});

describe('two trees at once (lab.json "trees")', () => {
  test('when a lab lists trees then the runner builds each, and instances of each serve side by side', async () => {
    const lab = loadLab('01-two-trees', join(kit, 'labs'));
    const trees = otherTrees(lab);
    expect(Object.keys(trees).sort()).toEqual(['solution', 'v1']);
    const [mine, v1, solution] = await Promise.all([
      startService({ src: lab.srcDir, build: buildA, config: request().config as never }),
      startService({ ...trees.v1!, config: request().config as never }),
      startService({ ...trees.solution!, config: request().config as never }),
    ]);
    try {
      const answers = await Promise.all([mine, v1, solution].map((s) => s.http(0).get('/')));
      expect(answers.map((a) => JSON.parse(a.text).tree)).toEqual(['starter', 'v1', 'solution']);
      expect(new Set(answers.map((a) => JSON.parse(a.text).pid)).size).toBe(3);
    } finally {
      await Promise.all([mine, v1, solution].map((s) => s.close()));
    }
  });

  test('when lab.json names a tree the lab does not ship then loading it fails in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labs-'));
    mkdirSync(join(dir, '02-missing', 'src'), { recursive: true });
    writeFileSync(
      join(dir, '02-missing', 'lab.json'),
      JSON.stringify({
        slug: 'missing',
        title: 'Missing tree',
        question: 'Where did the tree go?',
        level: 'advanced',
        questions: [24],
        services: ['postgres'],
        hints: ['one hint here', 'two hints here', 'three hints here'],
        starter: { fails: ['x'] },
        trees: ['v0'],
      }),
    );
    expect(() => loadLab('02-missing', dir)).toThrow(LabError);
    expect(() => loadLab('02-missing', dir)).toThrow(/trees names "v0", but 02-missing\/trees\/v0\/app.ts does not exist/);
  });
});
