import { relative } from 'node:path';
import { findLab } from '../../lab-schema.js';
import { LabError } from '../../errors.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { c, out } from '../ui.js';

const USAGE = [
  "`lab dev` is for the kit's authors:",
  '  lab dev check [--fix]                      static checks over every lab (runs in npm test)',
  '  lab dev new SLUG --question N [--level L]   scaffold labs/NN-slug and solutions/NN-slug',
  '  lab dev variant LAB NAME [--save|--force]   stage a variant to edit, then save it as a diff',
].join('\n');

/** Authoring tools: `lab dev check`, `lab dev new`, `lab dev variant`. */
export const dev: Command = {
  name: 'dev',
  args: 'check|new|variant …',
  summary: "for the kit's authors: check every lab, scaffold one, edit a variant as a diff",
  options: [
    { name: 'fix', type: 'boolean', description: 'check: rewrite what is generated (the README labs table) instead of reporting it' },
    { name: 'question', type: 'number', value: 'N', description: 'new: the seed question the lab answers (labs/questions.json)' },
    { name: 'level', type: 'string', value: 'L', description: 'new: beginner, intermediate (default) or advanced' },
    { name: 'save', type: 'boolean', description: 'variant: write the edited tree back as change.diff (and the whole files it keeps)' },
    { name: 'force', type: 'boolean', description: 'variant: stage afresh over an unsaved edit' },
  ],
  async run({ positionals, options }) {
    const [sub, ...args] = positionals;
    switch (sub) {
      case 'check': {
        if (args.length) throw new UsageError('`lab dev check` checks every lab; it takes no arguments');
        const { checkKit } = await import('../../dev/check.js');
        const started = Date.now();
        const { labs, problems } = checkKit({ fix: Boolean(options.fix) });
        for (const p of problems) out(`${c.red('✘')} ${p.where}: ${p.message}`);
        const took = ((Date.now() - started) / 1000).toFixed(1);
        if (problems.length) {
          out(`dev check: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${labs} labs (${took} s)`);
          return 1;
        }
        out(`dev check: ${labs} labs, every rule holds (${took} s)`);
        return 0;
      }
      case 'new': {
        if (args.length !== 1) throw new UsageError('`lab dev new` takes one slug, e.g. `lab dev new outbox --question 16`');
        const question = options.question as number | undefined;
        if (question === undefined)
          throw new UsageError('which seed question does the lab answer? Add --question N (see labs/questions.json)');
        const level = options.level as string | undefined;
        if (level !== undefined && !['beginner', 'intermediate', 'advanced'].includes(level))
          throw new UsageError('--level is beginner, intermediate or advanced');
        const { checkReadmeTable, knownQuestions } = await import('../../dev/check.js');
        const { ROOT } = await import('../../paths.js');
        if (!knownQuestions(ROOT).has(question)) throw new UsageError(`question ${question} is not in labs/questions.json`);
        const { scaffold } = await import('../../dev/scaffold.js');
        const made = scaffold({ slug: args[0]!, question, level: level as 'beginner' | 'intermediate' | 'advanced' | undefined });
        // The README's labs table is generated from lab.json: the new lab gets its row now.
        const { loadLabs } = await import('../../lab-schema.js');
        checkReadmeTable(ROOT, loadLabs(), true);
        out(c.bold(`Made ${made.id}:`));
        for (const f of made.files) out(`  ${relative(process.cwd(), f)}`);
        out('  README.md (its labs table)');
        out(`\nIts starter fails its one test and its solution passes it: \`lab verify ${args[0]}\`.`);
        out('`lab dev check` lists what is left to write (each "<write: …>").');
        return 0;
      }
      case 'variant': {
        if (args.length !== 2)
          throw new UsageError('`lab dev variant` takes a lab and a variant, e.g. `lab dev variant caching decoy-ttl-only`');
        const lab = findLab(args[0]!);
        const v = await import('../../dev/variant.js');
        const name = args[1]!;
        if (options.save) {
          const { existsSync } = await import('node:fs');
          const dir = v.editDir(lab, name);
          if (!existsSync(dir)) throw new LabError(`no edit of ${name} to save: run \`lab dev variant ${lab.slug} ${name}\` first`);
          const { readVariant } = await import('../../variants.js');
          const saved = v.saveVariant(lab, name, dir, readVariant(lab, name).whole);
          const { rmSync } = await import('node:fs');
          rmSync(dir, { recursive: true, force: true });
          out(
            `Saved ${name}: ${saved.files} file${saved.files === 1 ? '' : 's'} changed from the ${v.baseSrc(lab, name).base}, ` +
              `change.diff ${saved.diffLines} lines${saved.whole.length ? `, kept whole: ${saved.whole.join(', ')}` : ''}.`,
          );
          out('To keep a rewritten file whole instead, name it in variant.json\'s "whole" with the reason, and save again.');
          return 0;
        }
        const dir = v.editVariant(lab, name, Boolean(options.force));
        out(`Staged ${name} for editing in ${relative(process.cwd(), dir)}`);
        out(`Edit it, then \`lab dev variant ${lab.slug} ${name} --save\` writes it back as a diff over the ${v.baseSrc(lab, name).base}.`);
        return 0;
      }
      default:
        throw new UsageError(sub ? `unknown \`lab dev\` command "${sub}".\n${USAGE}` : USAGE);
    }
  },
};
