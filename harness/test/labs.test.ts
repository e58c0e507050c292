import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { findLab, loadLab, loadLabs, LabError } from '../lab-schema.js';
import { judge } from '../verify.js';
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
    writeFileSync(join(dir, '07-broken', 'lab.json'), JSON.stringify({ slug: 'broken', title: 'Broken lab', level: 'easy' }));
    expect(() => loadLab('07-broken', dir)).toThrow(LabError);
    expect(() => loadLab('07-broken', dir)).toThrow(/07-broken\/lab.json: level/);
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
});

const run = (tests: [string, 'passed' | 'failed', number?][]): RunResult => ({
  lab: 'x',
  tree: 'starter',
  durationMs: 1,
  tests: tests.map(([name, status, points = 1]) => ({ name, status, points, tier: 'core', durationMs: 1 })),
});

describe('judge (lab verify)', () => {
  test('when the starter fails exactly what it declares then there is no problem', () => {
    expect(
      judge(
        run([
          ['a', 'failed'],
          ['b', 'passed'],
        ]),
        { mustFail: ['a'], mustPass: ['b'], exact: true },
      ),
    ).toEqual([]);
  });
  test('when a declared failure passes then it is reported', () => {
    expect(
      judge(
        run([
          ['a', 'passed'],
          ['b', 'passed'],
        ]),
        { mustFail: ['a'], mustPass: ['b'], exact: true },
      ),
    ).toEqual(['should fail but passed: "a"']);
  });
  test('when a test is undeclared, missing or pointless then it is reported', () => {
    const problems = judge(
      run([
        ['a', 'failed'],
        ['c', 'passed', 0],
      ]),
      { mustFail: ['a'], mustPass: ['b'], exact: true },
    );
    expect(problems).toContain('"c" declares no points');
    expect(problems).toContain('"b" is declared but no such test ran');
    expect(problems).toContain('"c" is not declared in lab.json starter.fails or starter.passes');
  });
  test('when nothing ran then that is a problem, never a pass', () => {
    expect(judge({ ...run([]), error: 'schema.sql failed' }, { mustFail: [], mustPass: 'rest', exact: false })[0]).toMatch(
      /schema.sql failed/,
    );
    expect(judge(run([]), { mustFail: [], mustPass: 'rest', exact: false })).toEqual(['no test ran']);
  });
});

describe('variant.json', () => {
  test('when an alternative may miss a bonus then only that test may fail', () => {
    const run2 = run([
      ['a', 'passed'],
      ['bonus', 'failed'],
    ]);
    expect(judge(run2, { mustFail: [], mayFail: ['bonus'], mustPass: 'rest', exact: false })).toEqual([]);
    expect(
      judge(
        run([
          ['a', 'failed'],
          ['bonus', 'passed'],
        ]),
        { mustFail: [], mayFail: ['bonus'], mustPass: 'rest', exact: false },
      ),
    ).toEqual(['should pass but failed: "a"']);
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
