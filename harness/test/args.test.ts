import { describe, expect, test } from 'vitest';
import { parseArgs, type OptionSpec } from '../cli/args.js';
import { UsageError } from '../errors.js';

const specs: OptionSpec[] = [
  { name: 'repeat', type: 'number', description: 'n' },
  { name: 'target', type: 'string', description: 'dir' },
  { name: 'variants', type: 'boolean', description: 'b' },
];
const parse = (line: string) => parseArgs(line.split(' ').filter(Boolean), specs, 'verify');

describe('parseArgs', () => {
  test('when given positionals and options in any order then both are collected', () => {
    expect(parse('deadlocks --repeat 3 caching --target=work/x')).toEqual({
      positionals: ['deadlocks', 'caching'],
      options: { repeat: 3, target: 'work/x' },
    });
  });
  test('when a boolean is negated with --no- then it is false', () => {
    expect(parse('--no-variants').options).toEqual({ variants: false });
    expect(parse('--variants').options).toEqual({ variants: true });
  });
  test('when everything after -- is positional', () => {
    expect(parse('-- --repeat').positionals).toEqual(['--repeat']);
  });
  test('when an option is unknown then the error names it and the known ones', () => {
    expect(() => parse('--frob')).toThrow(
      new UsageError('unknown option --frob for `lab verify` (it takes --repeat, --target, --variants)'),
    );
  });
  test('when a number is not a whole number ≥ 1 then it is refused', () => {
    for (const bad of ['--repeat x', '--repeat 0', '--repeat 1.5', '--repeat -2']) expect(() => parse(bad), bad).toThrow(UsageError);
  });
  test('when a value is missing then it is refused', () => {
    expect(() => parse('--repeat')).toThrow('--repeat needs a value');
    expect(() => parse('--target --repeat 2')).toThrow('--target needs a value');
  });
  test('when a boolean is given a value then it is refused', () => {
    expect(() => parse('--variants=yes')).toThrow('--variants takes no value');
  });
});
