import { cpuNow, defaultJobs } from '../../jobs.js';
import { findLab, loadLabs, type Lab } from '../../lab-schema.js';
import type { Check } from '../../verify.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out, step } from '../ui.js';

interface Cost {
  lab: string;
  trees: number;
  wall: number;
  kitCpu: number;
  machineCpu: number;
}

/** The cost table: where verify's time went, lab by lab. */
export function costTable(costs: Cost[]): string[] {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
  const rows = [
    ['lab', 'trees', 'wall s', 'cpu s (kit)', 'cpu s (machine)'],
    ...costs.map((k) => [k.lab, String(k.trees), f(k.wall), f(k.kitCpu), f(k.machineCpu)]),
  ];
  const total = costs.reduce(
    (a, k) => ({ trees: a.trees + k.trees, wall: a.wall + k.wall, kit: a.kit + k.kitCpu, machine: a.machine + k.machineCpu }),
    { trees: 0, wall: 0, kit: 0, machine: 0 },
  );
  rows.push(['total', String(total.trees), f(total.wall), f(total.kit), f(total.machine)]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(w[i]!) : cell.padStart(w[i]!))).join('  '));
}

/**
 * Proves the labs' tests: each starter fails exactly its declared tests, each solution passes all,
 * each variant (alternative fix or decoy) behaves as declared — N times over. Ends with what each
 * lab cost, then the plain "verify: N passed, N failed" line.
 */
export const verify: Command = {
  name: 'verify',
  args: '[LAB…]',
  summary: 'starters fail exactly their declared tests, solutions pass, variants behave — N times over',
  options: [
    { name: 'repeat', type: 'number', value: 'N', description: 'run every tree (starter, solution, variants) N times (default 1)' },
    { name: 'variants', type: 'boolean', description: 'also run solutions/X/variants (default on; --no-variants skips)' },
    {
      name: 'sandbox',
      type: 'boolean',
      description: 'run every tree in a grading sandbox, as `lab grade` runs a submission (on the run’s shared servers)',
    },
    {
      name: 'jobs',
      type: 'number',
      value: 'N',
      description: `trees run at once (default: as many as the CPU allows, up to 3 per core, ${defaultJobs()})`,
    },
  ],
  async run({ positionals, options }) {
    const labs: Lab[] = positionals.length ? positionals.map((p) => findLab(p)) : loadLabs();
    const repeat = (options.repeat as number | undefined) ?? 1;
    const fixedJobs = options.jobs !== undefined;
    const jobs = (options.jobs as number | undefined) ?? defaultJobs();
    if (!(jobs >= 1) || !Number.isInteger(jobs)) throw new UsageError('--jobs takes a whole number of at least 1');
    if (!(repeat >= 1) || !Number.isInteger(repeat)) throw new UsageError('--repeat takes a whole number of at least 1');
    const [{ labPackages, RunnerSet }, { withServices }, { HostPool }, { verifyLab }] = await Promise.all([
      import('../../runner.js'),
      import('../../session.js'),
      import('../../testing/host.js'),
      import('../../verify.js'),
    ]);
    const checks: Check[] = [];
    const costs: Cost[] = [];
    const t0 = Date.now();
    await withServices(
      labs,
      async (endpoints) => {
        const hosts = await HostPool.open(options.sandbox ? 0 : Math.min(16, 2 * jobs + 2));
        // One set of runners for every lab: Vitest and its workers start once, not once per lab.
        const runners = new RunnerSet({ endpoints, hosts });
        try {
          for (const lab of labs) {
            const [w0, cpu0] = [Date.now(), cpuNow()];
            hosts.setPreload(labPackages(lab));
            const mine = await verifyLab(lab, {
              repeat,
              variants: options.variants !== false,
              jobs,
              fixedJobs,
              runners,
              sandbox: options.sandbox === true,
              onCheck: (ch) => {
                checks.push(ch);
                const tag = `${ch.lab} · ${ch.tree}${repeat > 1 ? ` · round ${ch.round}/${repeat}` : ''}`;
                out(`${ch.ok ? c.green('✔') : c.red('✖')} ${tag} ${c.dim(`(${(ch.durationMs / 1000).toFixed(1)} s)`)}`);
                for (const p of ch.problems) out(c.red(`    ${p}`));
              },
            });
            const cpu1 = cpuNow();
            costs.push({
              lab: lab.slug,
              trees: mine.length,
              wall: (Date.now() - w0) / 1000,
              kitCpu: cpu1.kit - cpu0.kit,
              machineCpu: cpu1.machine - cpu0.machine,
            });
          }
        } finally {
          await runners.close();
          await hosts.close();
        }
      },
      step,
    );
    const bad = checks.filter((ch) => !ch.ok);
    out();
    for (const line of costTable(costs)) out(c.dim(line));
    out(
      c.dim(
        `${labs.length} lab${labs.length === 1 ? '' : 's'}, ${checks.length} checks, --jobs ${fixedJobs ? jobs : `auto (≤ ${jobs})`}, ${((Date.now() - t0) / 1000).toFixed(0)} s`,
      ),
    );
    // The last line is the plain "verify: N passed, N failed" that CI reads as the run's count.
    out(`verify: ${checks.length - bad.length} passed, ${bad.length} failed`);
    return bad.length === 0 ? 0 : 1;
  },
};
