import { spawn, spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { EnvironmentError, UsageError } from '../../errors.js';
import { findLab, type Lab } from '../../lab-schema.js';
import type { ServeOptions, Served } from '../../serve.js';
import { stageTree, type TreeSpec } from '../../trees.js';
import type { OptionSpec, Parsed } from '../args.js';
import { treeOptions, treeSpec } from '../tree-options.js';
import type { Command } from '../command.js';
import { c, out, step } from '../ui.js';

const TREE_OPTIONS: OptionSpec[] = [
  ...treeOptions('serve'),
  { name: 'instances', type: 'number', value: 'N', description: 'instances behind the round-robin port (default 2)' },
  {
    name: 'port',
    type: 'string',
    value: 'P',
    description: 'the port to serve on (serve: 3000 by default; load: a free one; 0 picks a free one)',
  },
];

/** The lab, the tree (your copy by default) and the serving options a command line names. */
function parse(cmd: string, { positionals, options }: Parsed, defaultPort: number): { lab: Lab; spec: TreeSpec; opts: ServeOptions } {
  if (positionals.length !== 1) throw new UsageError(`\`lab ${cmd}\` takes one lab, e.g. \`lab ${cmd} deadlocks\``);
  const instances = (options.instances as number | undefined) ?? 2;
  if (!(instances >= 1) || !Number.isInteger(instances)) throw new UsageError('--instances takes a whole number of at least 1');
  const port = options.port === undefined ? defaultPort : Number(options.port);
  if (!/^\d+$/.test(String(options.port ?? defaultPort)) || port > 65535)
    throw new UsageError(`--port takes a port number (0 picks a free one), not "${options.port}"`);
  const spec = treeSpec(options);
  return { lab: findLab(positionals[0]!), spec, opts: { instances, port } };
}

/** Starts the servers, serves the tree, hands the result to fn, and always stops everything. */
async function serving<T>(lab: Lab, spec: TreeSpec, opts: ServeOptions, fn: (s: Served) => Promise<T>): Promise<T> {
  const tree = stageTree(lab, spec); // a missing copy is reported before any container starts
  const [{ serveLab }, { withServices }] = await Promise.all([import('../../serve.js'), import('../../session.js')]);
  return withServices(
    [lab],
    async (endpoints) => {
      const served = await serveLab(lab, tree, endpoints, opts);
      try {
        return await fn(served);
      } finally {
        await served.close();
      }
    },
    step,
  );
}

/** Runs a lab's service by hand: seeded, N instances behind one port, until Ctrl-C. */
export const serve: Command = {
  name: 'serve',
  args: 'LAB',
  summary: 'run the lab’s service by hand, seeded, N instances behind one port (Ctrl-C stops it all)',
  options: TREE_OPTIONS,
  async run(parsed) {
    const { lab, spec, opts } = parse('serve', parsed, 3000);
    const { untilInterrupted } = await import('../../serve.js');
    await serving(lab, spec, opts, async (s) => {
      out(
        c.green(`\n${lab.slug} is served at ${s.url}`) +
          ` (${s.instances.length} instance${s.instances.length === 1 ? '' : 's'}, round-robin)`,
      );
      s.instances.forEach((u, i) => out(`  instance ${i + 1}  ${u}`));
      out(`  database    ${s.psql}`);
      if (s.redisCli) out(`  redis       ${s.redisCli}`);
      for (const [key, url] of Object.entries(s.stubs)) out(`  stub        ${key} = ${url}`);
      if (s.workers.length)
        out(`  workers     ${s.workers.length} process${s.workers.length === 1 ? '' : 'es'} (createWorker), pids ${s.workers.join(', ')}`);
      out(`  seed        ${relative(process.cwd(), join(lab.dir, 'load', 'seed.sql'))}`);
      out(c.dim('Ctrl-C stops the instances and removes the containers.'));
      await untilInterrupted();
      out('\nStopping…');
    });
    return 0;
  },
};

/** The k6 command line `lab load` runs: the lab's script against the served port. */
export function k6Command(lab: Lab, url: string): { command: string; args: string[]; env: Record<string, string> } {
  return { command: 'k6', args: ['run', join(lab.dir, 'load', 'script.ts')], env: { BASE_URL: url } };
}

/** Serves the lab and runs its k6 script against it; the script's thresholds are the SLO. */
export const load: Command = {
  name: 'load',
  args: 'LAB',
  summary: 'serve the lab and run its k6 script against it (the script’s thresholds are the SLO)',
  options: TREE_OPTIONS,
  async run(parsed) {
    const { lab, spec, opts } = parse('load', parsed, 0);
    const probe = spawnSync('k6', ['version'], { encoding: 'utf8' });
    if (probe.error)
      throw new EnvironmentError(
        `k6 is not installed: see https://grafana.com/docs/k6/latest/set-up/install-k6/ . The script is ${relative(process.cwd(), join(lab.dir, 'load', 'script.ts'))}; \`lab serve ${lab.slug}\` serves the lab for it`,
      );
    return serving(lab, spec, opts, async (s) => {
      const k6 = k6Command(lab, s.url);
      out(c.dim(`\n${k6.command} ${k6.args.join(' ')}  (BASE_URL=${s.url})`));
      // Not spawnSync: the port k6 loads is served by this very process.
      const child = spawn(k6.command, k6.args, { stdio: 'inherit', env: { ...process.env, ...k6.env } });
      return new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
    });
  },
};
