import { findLab, loadLabs, type Lab } from '../../lab-schema.js';
import { withServices } from '../../session.js';
import { verifyLab, type Check } from '../../verify.js';
import type { Command } from '../command.js';
import { c, out, step } from '../ui.js';

/**
 * Proves the labs' tests: each starter fails exactly its declared tests, each solution passes all,
 * each variant (alternative fix or decoy) behaves as declared — N times over.
 */
export const verify: Command = {
  name: 'verify',
  args: '[LAB…]',
  summary: 'starters fail exactly their declared tests, solutions pass, variants behave — N times over',
  options: [
    { name: 'repeat', type: 'number', value: 'N', description: 'run starter and solution N times (default 1)' },
    { name: 'variants', type: 'boolean', description: 'also run solutions/X/variants (default on; --no-variants skips)' },
  ],
  async run({ positionals, options }) {
    const labs: Lab[] = positionals.length ? positionals.map((p) => findLab(p)) : loadLabs();
    const repeat = (options.repeat as number | undefined) ?? 1;
    const checks: Check[] = [];
    const t0 = Date.now();
    await withServices(
      labs,
      async (endpoints) => {
        for (const lab of labs)
          await verifyLab(lab, {
            repeat,
            variants: options.variants !== false,
            endpoints,
            onCheck: (ch) => {
              checks.push(ch);
              const tag = `${ch.lab} · ${ch.tree}${repeat > 1 && !ch.tree.startsWith('variant') ? ` · round ${ch.round}/${repeat}` : ''}`;
              out(`${ch.ok ? c.green('✔') : c.red('✖')} ${tag} ${c.dim(`(${(ch.durationMs / 1000).toFixed(1)} s)`)}`);
              for (const p of ch.problems) out(c.red(`    ${p}`));
            },
          });
      },
      step,
    );
    const bad = checks.filter((ch) => !ch.ok);
    out();
    out(c.dim(`${labs.length} lab${labs.length === 1 ? '' : 's'}, ${checks.length} checks, ${((Date.now() - t0) / 1000).toFixed(0)} s`));
    // The last line is the plain "verify: N passed, N failed" that CI reads as the run's count.
    out(`verify: ${checks.length - bad.length} passed, ${bad.length} failed`);
    return bad.length === 0 ? 0 : 1;
  },
};
