/** The workshop's pure parts: what the board shows, who is stuck, the CSV, the protocol, the rate limits, the attendee's queue and CLI errors. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { classCsv } from '../formats.js';
import { findLab } from '../lab-schema.js';
import { ROOT } from '../paths.js';
import type { RunResult } from '../runner.js';
import { boardCsv, cellView, rows, totals, type BoardLab } from '../workshop/board.js';
import { enqueue, flushQueue, queued, testReport, workshopRun, workshopUrl } from '../workshop/client.js';
import { firstProblem, MAX_BODY_BYTES, Report, ReportBatch, STUCK_AFTER_MS } from '../workshop/protocol.js';
import { RateLimiter } from '../workshop/rate-limit.js';
import type { Attendee, Cell } from '../workshop/store.js';

const NOW = Date.parse('2026-12-02T10:00:00Z');
const LABS: BoardLab[] = [
  { slug: 'deadlocks', title: 'D', order: 1 },
  { slug: 'caching', title: 'C', order: 3 },
];
const ada: Attendee = { id: 1, name: 'Ada', board: 1, joinedAt: '', removedAt: null, removedWhy: null };
const bob: Attendee = { ...ada, id: 2, name: 'Bob' };

function cell(o: Partial<Cell>): Cell {
  return {
    attendeeId: 1,
    lab: 'deadlocks',
    passed: 1,
    total: 3,
    points: 1,
    maxPoints: 7,
    hintsUsed: 0,
    hintsTotal: 3,
    failing: 'when a storm runs then nothing deadlocks',
    failingSince: new Date(NOW - 60_000).toISOString(),
    tests: [
      { id: 'one', status: 'passed', points: 1, tier: 'core' },
      { id: 'storm', status: 'failed', points: 3, tier: 'core' },
      { id: 'zero', status: 'failed', points: 3, tier: 'bonus' },
    ],
    testedAt: new Date(NOW).toISOString(),
    reports: 2,
    ...o,
  };
}

describe('the board', () => {
  test('when an attendee has no report for a lab then it is not started; with only a hint, started; then failing k of n, or passing', () => {
    expect(cellView(undefined, NOW).state).toBe('not started');
    expect(cellView(cell({ total: 0, passed: 0, failing: null }), NOW).state).toBe('started');
    expect(cellView(cell({}), NOW)).toMatchObject({ state: 'failing', failed: 2, total: 3, points: 1, maxPoints: 7 });
    expect(cellView(cell({ passed: 3, failing: null, failingSince: null }), NOW).state).toBe('passing');
  });

  test('when the same test has failed for more than 10 minutes then the attendee is stuck; at 10 minutes exactly, not yet', () => {
    const at = (ms: number) => cell({ failingSince: new Date(NOW - ms).toISOString() });
    expect(cellView(at(STUCK_AFTER_MS), NOW).stuck).toBeNull();
    expect(cellView(at(STUCK_AFTER_MS + 1), NOW).stuck).toBe('same failing test for 10 min');
    expect(cellView(at(25 * 60_000), NOW).stuck).toBe('same failing test for 25 min');
  });

  test('when every hint is used and the lab does not pass then the attendee is stuck; a passing lab never is', () => {
    expect(cellView(cell({ hintsUsed: 3 }), NOW).stuck).toBe('all 3 hints used');
    expect(cellView(cell({ hintsUsed: 2 }), NOW).stuck).toBeNull();
    expect(cellView(cell({ hintsUsed: 3, passed: 3, failing: null, failingSince: new Date(0).toISOString() }), NOW).stuck).toBeNull();
  });

  test('when the room has attendees then each lab counts who passes, fails, has not started and is stuck', () => {
    const cells = [cell({}), cell({ attendeeId: 2, passed: 3, failing: null }), cell({ attendeeId: 2, lab: 'caching', hintsUsed: 3 })];
    const board = rows(LABS, [ada, bob], cells, NOW);
    expect(board.map((r) => [r.name, r.points, r.stuck])).toEqual([
      ['Ada', 1, false],
      ['Bob', 2, true],
    ]);
    expect(totals(LABS, board)).toEqual({
      deadlocks: { passing: 1, failing: 1, started: 0, notStarted: 0, stuck: 0 },
      caching: { passing: 0, failing: 1, started: 0, notStarted: 1, stuck: 1 },
    });
  });

  test('when the board is exported then the CSV has the columns of `lab grade`, a pass/fail column per test id, core and bonus apart', () => {
    const csv = boardCsv(
      LABS,
      [ada, bob],
      [
        cell({}),
        cell({
          attendeeId: 2,
          passed: 3,
          points: 7,
          failing: null,
          tests: cell({}).tests.map((t) => ({ ...t, status: 'passed' as const })),
        }),
      ],
    );
    const [header, a, b] = csv.trim().split('\n');
    expect(header).toBe(
      classCsv([], ['deadlocks', 'caching'])
        .split('\n')[0]!
        .replace('deadlocks graded at,', 'deadlocks graded at,deadlocks: one,deadlocks: storm,deadlocks: zero,'),
    );
    expect(a).toBe(`Ada,partial,1,4,0,3,1,7,0,${new Date(NOW).toISOString()},pass,fail,fail,,0,0,0,0,0,0,0,,1,7,`);
    expect(b).toMatch(/^Bob,full core,4,4,3,3,7,7,0,[^,]+,pass,pass,pass,/);
  });
});

describe('the protocol', () => {
  const run: RunResult = {
    lab: 'deadlocks',
    tree: 'x',
    durationMs: 1,
    tests: [
      { name: 'when one then one', id: 'one', status: 'passed', points: 1, tier: 'core', durationMs: 1 },
      {
        name: 'when a storm runs then nothing deadlocks',
        id: 'storm',
        status: 'failed',
        points: 3,
        tier: 'core',
        durationMs: 1,
        failure: 'x',
      },
    ],
  };

  test('when a run is reported then the report says passed, failed, points, hints and the first failing test, and fits the protocol', () => {
    const r = testReport(findLab('deadlocks'), run, 2);
    expect(r).toMatchObject({
      kind: 'test',
      lab: 'deadlocks',
      passed: 1,
      total: 2,
      points: 1,
      maxPoints: 4,
      hintsUsed: 2,
      hintsTotal: 3,
      failing: 'when a storm runs then nothing deadlocks',
    });
    expect(Report.parse(r)).toEqual(r);
    expect(JSON.stringify({ reports: Array.from({ length: 25 }, () => r) }).length).toBeLessThan(MAX_BODY_BYTES);
  });

  test.each([
    ['a missing field', (r: Record<string, unknown>) => delete r.points, /^reports\.0\.points: /],
    ['a fractional count', (r: Record<string, unknown>) => (r.passed = 1.5), /^reports\.0\.passed: /],
    ['an unknown kind', (r: Record<string, unknown>) => (r.kind = 'grade'), /^reports\.0\.kind: /],
    ['a time that is not ISO 8601', (r: Record<string, unknown>) => (r.at = 'yesterday'), /^reports\.0\.at: an ISO 8601 time/],
    ['an extra field', (r: Record<string, unknown>) => (r.attendee = 7), /reports\.0: Unrecognized key: "attendee"/],
  ])('when a report has %s then the protocol refuses it, naming the field', (_what, spoil, message) => {
    const r = testReport(findLab('deadlocks'), run, 0) as unknown as Record<string, unknown>;
    spoil(r);
    const parsed = ReportBatch.safeParse({ reports: [r] });
    expect(parsed.success).toBe(false);
    expect(firstProblem(parsed.error!)).toMatch(message);
  });
});

describe('rate limits', () => {
  test('when a client spends its burst then it waits for the refill, and other clients are not affected', () => {
    let t = 0;
    const l = new RateLimiter({ capacity: 3, perSecond: 0.5 }, () => t);
    expect([l.take('a'), l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 0, 2]);
    expect(l.take('b')).toBe(0);
    t = 1_000;
    expect(l.take('a')).toBe(1);
    t = 2_000;
    expect(l.take('a')).toBe(0);
  });
});

/** A port nothing listens on: bound, then closed. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe("the attendee's side", () => {
  test('when a URL is not an http(s) address then it is refused in one line', () => {
    expect(workshopUrl('http://192.168.1.20:4000/')).toBe('http://192.168.1.20:4000');
    expect(() => workshopUrl('192.168.1.20:4000')).toThrow(/is not a URL: give the whole address .* with http:\/\//);
    expect(() => workshopUrl('ftp://192.168.1.20')).toThrow(/is not an http:\/\/ or https:\/\/ URL/);
    expect(() => workshopUrl('not a url')).toThrow(/is not a URL/);
  });

  test('when reports are queued then they wait in order, each in a whole file; without a workshop nothing is queued', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-queue-'));
    const r = () => testReport(findLab('deadlocks'), { lab: 'deadlocks', tree: 'x', durationMs: 1, tests: [] }, 0);
    expect(enqueue(r(), dir), 'not joined').toBe(false);
    expect(queued(dir)).toEqual([]);
    spawnSync('sh', ['-c', `printf '{"url":"http://127.0.0.1:9","token":"t","name":"A","attendeeId":1}' > ${join(dir, 'workshop.json')}`]);
    const ids = Array.from({ length: 30 }, () => {
      const x = r();
      enqueue(x, dir);
      return x.id;
    });
    expect(queued(dir).map((f) => JSON.parse(readFileSync(join(dir, 'queue', f), 'utf8')).id)).toEqual(ids);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('when a sender is already at work then a second one leaves the queue to it; an unreachable server keeps every report queued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-lock-'));
    const port = await closedPort();
    writeFileSync(
      join(dir, 'workshop.json'),
      JSON.stringify({ url: `http://127.0.0.1:${port}`, token: 't', name: 'A', attendeeId: 1, joinedAt: '' }),
    );
    for (let i = 0; i < 3; i++)
      enqueue(testReport(findLab('deadlocks'), { lab: 'deadlocks', tree: 'x', durationMs: 1, tests: [] }, 0), dir);
    const first = flushQueue(dir, { retryForMs: 1_200 });
    const second = await flushQueue(dir);
    expect(second).toMatchObject({ sent: 0, left: 3 });
    expect(existsSync(join(dir, 'flush.lock')), 'the first sender holds the lock').toBe(true);
    expect(await first).toMatchObject({ sent: 0, left: 3, stopped: expect.stringMatching(/cannot reach .* \(ECONNREFUSED\)/) });
    expect(existsSync(join(dir, 'flush.lock'))).toBe(false);
    expect(queued(dir)).toHaveLength(3);
  });

  test('when not in a workshop then a test run reports nothing and prints nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-none-'));
    expect(await workshopRun(dir).finish(findLab('deadlocks'), { lab: 'deadlocks', tree: 'x', durationMs: 1, tests: [] })).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  const lab = (args: string[], work: string) =>
    spawnSync(process.execPath, [join(ROOT, 'harness', 'cli', 'bin.js'), ...args], {
      env: { ...process.env, LAB_WORK_DIR: work },
      encoding: 'utf8',
    });

  test('when `lab workshop join` gets a bad URL or no server answers then it prints one line and exits non-zero, joining nothing', async () => {
    const work = mkdtempSync(join(tmpdir(), 'ws-join-'));
    const port = await closedPort();
    for (const [url, message] of [
      ['192.168.1.20:4000', /^lab: "192\.168\.1\.20:4000" is not a URL: give the whole address/],
      ['nonsense', /^lab: "nonsense" is not a URL/],
      [`http://127.0.0.1:${port}`, new RegExp(`^lab: cannot reach a workshop server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`)],
    ] as const) {
      const r = lab(['workshop', 'join', url, '--name', 'Ada'], work);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n'), 'one line').toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(readdirSync(work)).toEqual([]);
    }
    const noName = lab(['workshop', 'join', 'http://127.0.0.1:4000'], work);
    expect([noName.status, noName.stderr.trim()]).toEqual([2, 'lab: add your name for the board: --name "Ada Lovelace"']);
  });
});
