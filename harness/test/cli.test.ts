/** The CLI's answers to bad input: one line, saying what to do, and a non-zero exit. */
import { afterEach, describe, expect, test, vi } from 'vitest';
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
    for (const c of ['list', 'show', 'start', 'test', 'watch', 'hint', 'solution', 'reset', 'grade', 'verify', 'doctor'])
      expect(logs.join('\n')).toMatch(new RegExp(`^  ${c} `, 'm'));
  });
});
