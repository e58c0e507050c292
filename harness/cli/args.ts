/**
 * Argument parsing for the `lab` CLI, driven by each command's option table (the same table feeds
 * --help). Pure and unit-tested from strings.
 */

import { UsageError } from '../errors.js';

export interface OptionSpec {
  name: string;
  type: 'boolean' | 'string' | 'number';
  description: string;
  /** For --help: the value's placeholder, e.g. N or DIR. */
  value?: string;
}

export interface Parsed {
  positionals: string[];
  options: Record<string, string | number | boolean | undefined>;
}

export function parseArgs(argv: string[], specs: OptionSpec[], command: string): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const parsed: Parsed = { positionals: [], options: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      parsed.positionals.push(arg);
      continue;
    }
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(arg)!;
    let name = m[1]!;
    let inline = m[2];
    let negated = false;
    if (!byName.has(name) && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
      name = name.slice(3);
      negated = true;
    }
    const spec = byName.get(name);
    if (!spec) {
      const known = specs.map((s) => `--${s.name}`).join(', ');
      throw new UsageError(`unknown option ${arg} for \`lab ${command}\`${known ? ` (it takes ${known})` : ' (it takes no options)'}`);
    }
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      parsed.options[name] = !negated;
      continue;
    }
    if (inline === undefined) {
      inline = argv[++i];
      if (inline === undefined || inline.startsWith('--')) throw new UsageError(`--${name} needs a value (${spec.value ?? spec.type})`);
    }
    if (spec.type === 'number') {
      const n = Number(inline);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} takes a whole number ≥ 1, not "${inline}"`);
      parsed.options[name] = n;
    } else parsed.options[name] = inline;
  }
  return parsed;
}

export function formatOptions(specs: OptionSpec[]): string {
  const rows = specs.map(
    (s) => [`--${s.name}${s.type === 'boolean' ? '' : ` ${s.value ?? s.type.toUpperCase()}`}`, s.description] as const,
  );
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`).join('\n');
}
