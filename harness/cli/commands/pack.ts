import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { LabError, UsageError } from '../../errors.js';
import { packManifest } from '../../pack.js';
import { findLab, labFolders, type Lab } from '../../lab-schema.js';
import { WORK_DIR } from '../../paths.js';
import { learnerDir } from '../../trees.js';
import type { Command } from '../command.js';
import { c, out } from '../ui.js';

/** Writes one archive of your copies, with a manifest, to hand in: `lab grade --submissions` reads a folder of them. */
export const pack: Command = {
  name: 'pack',
  args: '[LAB…]',
  summary: 'write one archive of your copies (every lab you started, or those named) to hand in',
  options: [
    {
      name: 'name',
      type: 'string',
      value: 'NAME',
      description: 'whose work it is: the archive is NAME.tar.gz, and graders see NAME (default: your user name)',
    },
    { name: 'out', type: 'string', value: 'DIR', description: 'where to write the archive (default: the current folder)' },
    { name: 'force', type: 'boolean', description: 'replace an archive of the same name' },
  ],
  async run({ positionals, options }) {
    const name = (options.name as string | undefined) ?? userInfo().username;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
      throw new UsageError(`--name "${name}" is not a plain name: letters, digits, dot, dash, underscore`);
    const labs: Lab[] = positionals.length
      ? positionals.map((p) => findLab(p))
      : labFolders()
          .map((id) => findLab(id))
          .filter((l) => existsSync(join(learnerDir(l), 'src')));
    if (labs.length === 0) throw new LabError('you have no copy of any lab yet: `lab start LAB` makes one');
    for (const lab of labs)
      if (!existsSync(join(learnerDir(lab), 'src')))
        throw new LabError(`you have no copy of ${lab.slug} to pack: \`lab start ${lab.slug}\` makes one`);
    const outDir = resolve((options.out as string | undefined) ?? '.');
    if (!existsSync(outDir)) throw new LabError(`--out ${outDir} does not exist`);
    const archive = join(outDir, `${name}.tar.gz`);
    if (existsSync(archive) && !options.force)
      throw new LabError(
        `${relative(process.cwd(), archive) || archive} exists already: pass --force to replace it, or --name to write another`,
      );
    // The manifest goes beside the copies, at the top of the archive.
    const staging = mkdtempSync(join(tmpdir(), 'lab-pack-'));
    try {
      const manifest = packManifest(labs, name);
      writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      const r = spawnSync(
        'tar',
        [
          '-czf',
          archive,
          '--exclude=node_modules',
          '-C',
          staging,
          'manifest.json',
          '-C',
          WORK_DIR,
          ...labs.map((l) => basename(learnerDir(l))),
        ],
        { encoding: 'utf8' },
      );
      if (r.error || r.status !== 0)
        throw new LabError(`tar could not write ${archive}: ${r.error ? r.error.message : r.stderr.trim().split('\n')[0]}`);
      out(c.green(`Packed ${labs.map((l) => l.slug).join(', ')} into ${relative(process.cwd(), archive) || archive}`));
      for (const l of manifest.labs)
        out(
          `  ${l.slug.padEnd(18)} ${l.lastResult ? `last local run ${l.lastResult.points}/${l.lastResult.maxPoints}` : 'never tested'}, hints used ${l.hintsUsed}`,
        );
      out(c.dim(`Hand it in; a grader puts the archives in one folder and runs \`lab grade --submissions FOLDER\`.`));
      return 0;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  },
};
