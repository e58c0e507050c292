import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { findLab, loadLab, loadLabs } from '../lab-schema.js';
import { LabError } from '../errors.js';
import { judge, type Expectation } from '../verify.js';
import { readVariant } from '../variants.js';
import type { RunResult } from '../runner.js';

describe('lab.json', () => {
  test('when the kit loads then every lab.json is valid and labs are in order', () => {
    const labs = loadLabs();
    expect(labs.length).toBeGreaterThan(0);
    expect(labs.map((l) => l.order)).toEqual([...labs.map((l) => l.order)].sort((a, b) => a - b));
  });

  test('when a lab is looked up then slug, folder and number all work', () => {
    expect(findLab('deadlocks').id).toBe('01-deadlocks');
    expect(findLab('01-deadlocks').slug).toBe('deadlocks');
    expect(findLab('1').slug).toBe('deadlocks');
  });

  test('when a lab is unknown then the error lists the labs', () => {
    expect(() => findLab('nope')).toThrow(/unknown lab "nope". Labs: .*deadlocks/);
  });

  test('when lab.json is malformed then the error names the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labs-'));
    mkdirSync(join(dir, '07-broken'));
    writeFileSync(
      join(dir, '07-broken', 'lab.json'),
      JSON.stringify({ slug: 'broken', title: 'Broken lab', question: 'What breaks a lab?', level: 'easy' }),
    );
    expect(() => loadLab('07-broken', dir)).toThrow(LabError);
    expect(() => loadLab('07-broken', dir)).toThrow(/07-broken\/lab.json: level/);
  });

  test('when lab.json still lists starter.passes then the error says it is gone and why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labs-'));
    mkdirSync(join(dir, '01-deadlocks'));
    const json = JSON.parse(readFileSync(join(findLab('deadlocks').dir, 'lab.json'), 'utf8'));
    json.starter.passes = ['transfer'];
    writeFileSync(join(dir, '01-deadlocks', 'lab.json'), JSON.stringify(json));
    expect(() => loadLab('01-deadlocks', dir)).toThrow(
      '01-deadlocks/lab.json: starter: "passes" is no longer read: the starter must pass every test that "fails" does not list. Delete it.',
    );
  });

  test('when starter.fails names a test by its sentence or lists an id twice then the error says which', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labs-'));
    mkdirSync(join(dir, '01-deadlocks'));
    const json = JSON.parse(readFileSync(join(findLab('deadlocks').dir, 'lab.json'), 'utf8'));
    const write = (fails: string[]) =>
      writeFileSync(join(dir, '01-deadlocks', 'lab.json'), JSON.stringify({ ...json, starter: { fails } }));
    write(['when 60 opposing transfers run at once on two instances then all succeed and no money is created or lost']);
    expect(() => loadLab('01-deadlocks', dir)).toThrow(
      '01-deadlocks/lab.json: starter.fails.0: an id is lowercase words joined by hyphens, e.g. "zero-deadlocks"',
    );
    write(['storm', 'self-transfer', 'storm']);
    expect(() => loadLab('01-deadlocks', dir)).toThrow('01-deadlocks/lab.json: starter.fails: "storm" is listed twice');
  });

  test('when a lab declares a far-behind standby without a replica then loading it fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labs-'));
    mkdirSync(join(dir, '08-far'));
    const json = {
      ...JSON.parse(readFileSync(join(findLab('deadlocks').dir, 'lab.json'), 'utf8')),
      slug: 'far',
      farBehind: { seed: 'SELECT 1' },
    };
    writeFileSync(join(dir, '08-far', 'lab.json'), JSON.stringify(json));
    expect(() => loadLab('08-far', dir)).toThrow(/08-far\/lab.json: farBehind needs the "replica" service/);
  });

  test('when serve.workers is a count or groups with settings of their own then it loads, and a group of none is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labs-'));
    mkdirSync(join(dir, '08-served'));
    const base = { ...JSON.parse(readFileSync(join(findLab('deadlocks').dir, 'lab.json'), 'utf8')), slug: 'served' };
    const write = (serve: unknown) => writeFileSync(join(dir, '08-served', 'lab.json'), JSON.stringify({ ...base, serve }));
    write({ workers: 2 });
    expect(loadLab('08-served', dir).serve?.workers).toBe(2);
    const groups = [
      { instances: 1, settings: { service: 'orders' } },
      { instances: 2, settings: { service: 'shipping' } },
    ];
    write({ workers: groups });
    expect(loadLab('08-served', dir).serve?.workers).toEqual(groups);
    write({ workers: [{ instances: 0 }] });
    expect(() => loadLab('08-served', dir)).toThrow(/serve\.workers/);
  });
});

type Declared = [id: string | undefined, status: 'passed' | 'failed', points?: number, name?: string];

/** A run of the given tests; a test's sentence is made from its id unless one is given. */
const run = (tests: Declared[]): RunResult => ({
  lab: 'x',
  tree: 'starter',
  durationMs: 1,
  tests: tests.map(([id, status, points = 1, name = `when ${id} runs then it holds`]) => ({
    id,
    name,
    status,
    points,
    tier: 'core',
    durationMs: 1,
  })),
});

describe('judge (lab verify)', () => {
  test('when the starter fails exactly what starter.fails names then there is no problem', () => {
    expect(
      judge(
        run([
          ['a', 'failed'],
          ['b', 'passed'],
        ]),
        { mustFail: ['a'], rest: 'pass' },
      ),
    ).toEqual([]);
  });
  test('when a declared failure passes then the problem quotes its sentence and its id', () => {
    expect(
      judge(
        run([
          ['a', 'passed'],
          ['b', 'passed'],
        ]),
        { mustFail: ['a'], rest: 'pass' },
      ),
    ).toEqual(['should fail but passed: "when a runs then it holds" (a)']);
  });
  test('when a test that is not declared fails then it should have passed, with the first line of its message', () => {
    const r = run([
      ['a', 'failed'],
      ['b', 'failed'],
    ]);
    r.tests[1]!.failure = 'AssertionError: 3 deadlocks\nmore detail';
    expect(judge(r, { mustFail: ['a'], rest: 'pass' })).toEqual([
      'should pass but failed: "when b runs then it holds" (b)\n      AssertionError: 3 deadlocks',
    ]);
  });
  test('when a test has no points, no id, a malformed id or the id of another then each is reported', () => {
    const problems = judge(
      run([
        ['a', 'passed', 0],
        [undefined, 'passed', 1, 'when nobody named it then it still runs'],
        ['Zero Deadlocks', 'passed'],
        ['a', 'passed', 1, 'when a twin runs then it holds'],
      ]),
      { mustFail: [], rest: 'pass' },
    );
    expect(problems).toEqual([
      '"when a runs then it holds" (a) declares no points',
      `"when nobody named it then it still runs" declares no id: give it one beside its points, e.g. points(3, { id: 'storm' })`,
      '"when Zero Deadlocks runs then it holds" (Zero Deadlocks): an id is lowercase words joined by hyphens, e.g. "zero-deadlocks"',
      'two tests have the id "a": "when a runs then it holds" and "when a twin runs then it holds"',
    ]);
  });
  test('when lab.json or variant.json declares an id no test has then it is reported', () => {
    expect(judge(run([['a', 'failed']]), { mustFail: ['a', 'storm'], mayFail: ['storms'], rest: 'pass' })).toEqual([
      '"storm" is declared but no test has that id',
      '"storms" is declared but no test has that id',
    ]);
  });
  test('when a test’s sentence is reworded then judge still knows it by its id, and quotes the new sentence', () => {
    const expectation: Expectation = { mustFail: ['storm'], rest: 'pass' };
    const before = 'when 60 opposing transfers run at once on two instances then all succeed and no money is created or lost';
    const after = 'when sixty transfers cross each other on two instances then every one succeeds and the money adds up';
    const starter = (sentence: string, storm: 'passed' | 'failed') =>
      run([
        ['transfer', 'passed'],
        ['storm', storm, 3, sentence],
      ]);
    expect(judge(starter(before, 'failed'), expectation)).toEqual([]);
    expect(judge(starter(after, 'failed'), expectation)).toEqual([]);
    expect(judge(starter(after, 'passed'), expectation)).toEqual([`should fail but passed: "${after}" (storm)`]);
  });
  test('when nothing ran then that is a problem, never a pass', () => {
    expect(judge({ ...run([]), error: 'schema.sql failed' }, { mustFail: [], rest: 'pass' })[0]).toMatch(/schema.sql failed/);
    expect(judge(run([]), { mustFail: [], rest: 'pass' })).toEqual(['no test ran']);
  });
});

describe('variant.json', () => {
  test('when a variant.json names a test by its sentence then the error says what an id is', () => {
    const lab = { ...findLab('deadlocks'), solutionDir: mkdtempSync(join(tmpdir(), 'solutions-')) };
    mkdirSync(join(lab.solutionDir, 'variants', 'racy'), { recursive: true });
    const json = { kind: 'decoy', description: 'a transfer without locks', mustFail: ['when 60 opposing transfers run at once'] };
    writeFileSync(join(lab.solutionDir, 'variants', 'racy', 'variant.json'), JSON.stringify(json));
    expect(() => readVariant(lab, 'racy')).toThrow(
      '01-deadlocks variant racy: variant.json: mustFail.0: an id is lowercase words joined by hyphens, e.g. "zero-deadlocks"',
    );
  });
  test('when an alternative may miss a bonus then only that test may fail', () => {
    const run2 = run([
      ['a', 'passed'],
      ['bonus', 'failed'],
    ]);
    expect(judge(run2, { mustFail: [], mayFail: ['bonus'], rest: 'pass' })).toEqual([]);
    expect(
      judge(
        run([
          ['a', 'failed'],
          ['bonus', 'passed'],
        ]),
        { mustFail: [], mayFail: ['bonus'], rest: 'pass' },
      ),
    ).toEqual(['should pass but failed: "when a runs then it holds" (a)']);
  });
  test('when a decoy fails what it must then its other tests may pass or fail', () => {
    const decoy: Expectation = { mustFail: ['a'], rest: 'any' };
    expect(
      judge(
        run([
          ['a', 'failed'],
          ['b', 'failed'],
        ]),
        decoy,
      ),
    ).toEqual([]);
    expect(
      judge(
        run([
          ['a', 'passed'],
          ['b', 'failed'],
        ]),
        decoy,
      ),
    ).toEqual(['should fail but passed: "when a runs then it holds" (a)']);
  });
});

describe('servers per lab', () => {
  const pgAt = (port: number) => ({ host: '127.0.0.1', port, user: 'lab', password: 'lab', database: 'lab_admin' });
  const all = { postgres: pgAt(1), redis: { host: '127.0.0.1', port: 2 }, replica: pgAt(3), replicaPrimary: pgAt(4) };

  test('when a run mixes labs with and without a replica then only replica labs use the replica’s primary', async () => {
    const { endpointsFor } = await import('../runner.js');
    const plain = endpointsFor(findLab('deadlocks'), all);
    expect(plain).toEqual({ postgres: pgAt(1) });
    const withRedis = endpointsFor(findLab('caching'), all);
    expect(withRedis).toEqual({ postgres: pgAt(1), redis: all.redis });
    const replicaLab = endpointsFor(findLab('replication-lag'), all);
    expect(replicaLab).toEqual({ postgres: pgAt(4), redis: all.redis, replica: pgAt(3) });
  });

  test('when a run has a far-behind standby then only labs that declare farBehind see it', async () => {
    const { endpointsFor } = await import('../runner.js');
    const farBehind = { ...pgAt(5), frozenAt: '0/3000148', serviceUser: 'far_behind_svc', servicePassword: 'x' };
    expect(endpointsFor(findLab('caching'), { ...all, farBehind })).toEqual({ postgres: pgAt(1), redis: all.redis });
    expect(endpointsFor(findLab('replication-lag'), { ...all, farBehind }).farBehind).toEqual(farBehind);
  });

  test('when only replica labs run then their Postgres is the one server the replica streams from', async () => {
    const { endpointsFor } = await import('../runner.js');
    const { replicaPrimary: _, ...pairOnly } = { ...all, postgres: pgAt(4) };
    expect(endpointsFor(findLab('replication-lag'), pairOnly)).toEqual({ postgres: pgAt(4), redis: all.redis, replica: pgAt(3) });
  });
});
