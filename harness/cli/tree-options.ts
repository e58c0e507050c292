import { UsageError } from '../errors.js';
import type { TreeSpec } from '../trees.js';
import type { OptionSpec, Parsed } from './args.js';

/** The options that pick which tree a command runs: your copy (default), the starter, the solution, or a folder. */
export function treeOptions(verb: string): OptionSpec[] {
  return [
    { name: 'starter', type: 'boolean', description: `${verb} the starter as shipped` },
    { name: 'solution', type: 'boolean', description: `${verb} the reference solution` },
    { name: 'target', type: 'string', value: 'DIR', description: `${verb} another copy of the lab (a folder holding src/)` },
  ];
}

/** The tree those options pick; two at once is a usage error. */
export function treeSpec(options: Parsed['options']): TreeSpec {
  const picked = ['starter', 'solution', 'target'].filter((k) => options[k] !== undefined && options[k] !== false);
  if (picked.length > 1)
    throw new UsageError(`choose one of --starter, --solution and --target, not ${picked.map((p) => '--' + p).join(' and ')}`);
  if (options.starter) return { kind: 'starter' };
  if (options.solution) return { kind: 'solution' };
  if (typeof options.target === 'string') return { kind: 'dir', dir: options.target };
  return { kind: 'learner' };
}
