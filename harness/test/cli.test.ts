/** The CLI's answers to bad input: one line, saying what to do, and a non-zero exit. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ROOT } from '../paths.js';
import { main } from '../cli/main.js';

const errors: string[] = [];
afterEach(() => {
  errors.length = 0;
  vi.restoreAllMocks();
});
async function run(...argv: string[]) {
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const code = await main(argv);
  return { code, errors: [...errors] };
}

describe('lab CLI on bad input', () => {
  test.each([
    [['frobnicate'], 2, /^lab: unknown command "frobnicate". Commands: list, show, start, test/],
    [['test', 'nope'], 1, /^lab: unknown lab "nope". Labs: deadlocks.*Run `lab list`/],
    [
      ['test', 'deadlocks', '--frob'],
      2,
      /^lab: unknown option --frob for `lab test` \(it takes --starter, --solution, --target, --filter\)$/,
    ],
    [['test', 'deadlocks', '--starter', '--solution'], 2, /^lab: choose one of --starter, --solution and --target/],
    [['verify', '--repeat', 'many'], 2, /^lab: --repeat takes a whole number ≥ 1, not "many"$/],
    [['show'], 2, /^lab: `lab show` takes one lab/],
    [['grade', '--target', 'a', '--submissions', 'b'], 2, /^lab: choose --target or --submissions, not both$/],
    [['grade', '--shard', '1/2'], 2, /^lab: --shard splits a class: use it with --submissions$/],
  ])('when given %j then it prints one line and exits %i', async (argv, code, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(code);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(message);
  });

  test('when asked for help then every command is listed', async () => {
    const logs: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void logs.push(s));
    expect(await main(['--help'])).toBe(0);
    for (const c of ['list', 'show', 'start', 'test', 'watch', 'hint', 'solution', 'reset', 'pack', 'grade', 'verify', 'doctor', 'dev'])
      expect(logs.join('\n')).toMatch(new RegExp(`^  ${c} `, 'm'));
  });
});

describe('lab grade on bad paths: one line, exit 1, before any server starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grade-cli-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  mkdirSync(join(dir, 'class', 'ada'), { recursive: true });

  test.each([
    [['grade', 'deadlocks', '--target', join(dir, 'typo')], /^lab: --target .*typo: no such folder$/],
    [
      ['grade', 'deadlocks', '--target', file],
      /^lab: --target .*a-file is a file, not a folder \(nor a .tar, .tar.gz, .tgz or .zip archive\)$/,
    ],
    [['grade', 'deadlocks', '--submissions', join(dir, 'typo')], /^lab: --submissions .*typo: no such folder$/],
    [
      ['grade', 'deadlocks', '--submissions', file],
      /^lab: --submissions .*a-file is a file, not a folder \(nor a .tar, .tar.gz, .tgz or .zip archive\)$/,
    ],
    [
      ['grade', 'deadlocks', '--submissions', join(dir, 'class'), '--shard', '2/2'],
      /^lab: shard 2\/2 of .*class holds no submissions \(it has fewer learners than shards\)$/,
    ],
    [['grade', 'deadlocks', '--submissions', join(dir, 'class'), '--out', file], /^lab: --out .*a-file is a file, not a folder$/],
    [
      ['grade', 'deadlocks', '--submissions', join(dir, 'class'), '--out', join(dir, 'class', 'reports')],
      /^lab: --out .*reports is inside .*class, which is being graded: put reports elsewhere$/,
    ],
    [
      ['grade', 'deadlocks', '--submissions', join(dir, 'class'), '--out', join(ROOT, 'labs', 'grades')],
      /^lab: --out .*: .* is inside the kit's own labs\/$/,
    ],
  ])('when given %j then it says so in one line and exits 1', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(message);
  });

  test('when the folder for reports cannot be made then grading does not start', async () => {
    // A folder under a file cannot be created, whoever runs the test (root may write anywhere else).
    const r = await run('grade', 'deadlocks', '--submissions', join(dir, 'class'), '--out', join(file, 'reports'));
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^lab: --out .*a-file\/reports cannot be written: ENOTDIR$/);
  });
});

describe('a work folder inside the kit', () => {
  test.each([
    [['reset', 'deadlocks', '--yes'], 'labs'],
    [['start', 'deadlocks'], 'solutions'],
  ])('when `lab %j` is given LAB_WORK_DIR=%s then it refuses in one line and the kit is untouched', (argv, folder) => {
    const before = readdirSync(join(ROOT, folder)).sort();
    const r = spawnSync(process.execPath, [join(ROOT, 'harness', 'cli', 'bin.js'), ...argv], {
      env: { ...process.env, LAB_WORK_DIR: join(ROOT, folder) },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `lab: LAB_WORK_DIR: ${join(ROOT, folder)} is inside the kit's own ${folder}/; your copies need a folder of their own (the default is work/)`,
    ]);
    expect(readdirSync(join(ROOT, folder)).sort()).toEqual(before);
  });
});

describe('a work folder that cannot be made', () => {
  const aFile = join(mkdtempSync(join(tmpdir(), 'work-file-')), 'a-file');
  writeFileSync(aFile, '');
  test.each([
    // Under /proc, Node's own recursive mkdir never returns (Linux only).
    ...(process.platform === 'linux'
      ? [['/proc/nope', 'cannot make a copy of deadlocks in /proc/nope/01-deadlocks: cannot make /proc/nope (ENOENT)']]
      : []),
    [join(aFile, 'work'), `cannot make a copy of deadlocks in ${join(aFile, 'work', '01-deadlocks')}: ${aFile} is a file, not a folder`],
  ])('when LAB_WORK_DIR=%s then `lab start` fails at once, in one line', (folder, message) => {
    const started = Date.now();
    const r = spawnSync(process.execPath, [join(ROOT, 'harness', 'cli', 'bin.js'), 'start', 'deadlocks'], {
      env: { ...process.env, LAB_WORK_DIR: folder },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.signal, 'lab start did not finish within 20 s').toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`lab: ${message}`]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

test('when --shard is not I/N then it says so in one line and exits 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grade-shard-'));
  mkdirSync(join(dir, 'ada'));
  const r = await run('grade', 'deadlocks', '--submissions', dir, '--shard', '3/2');
  expect(r.code).toBe(2);
  expect(r.errors).toEqual(['lab: --shard takes I/N with 1 ≤ I ≤ N, e.g. 2/4, not "3/2"']);
});

test('when the reference fix is shown then its diff names files as the learner knows them (src/…), never a scratch folder', () => {
  const work = mkdtempSync(join(tmpdir(), 'solution-'));
  const lab = (...argv: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'harness', 'cli', 'bin.js'), ...argv], {
      env: { ...process.env, LAB_WORK_DIR: work },
      encoding: 'utf8',
    });
  expect(lab('start', 'caching').status).toBe(0);
  const r = lab('solution', 'caching', '--reveal');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('--- a/src/cache.ts\n+++ b/src/cache.ts\n@@ ');
  expect(r.stdout).not.toContain(work);
  expect(r.stdout).not.toContain(join(ROOT, '.lab'));
  expect(r.stdout).toContain('## 1. The concept'); // then NOTES.md
});
