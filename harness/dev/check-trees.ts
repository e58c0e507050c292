/**
 * Type-checks every tree the kit ships but tsc cannot see on its own: each lab's reference
 * solution and variants, laid over the starter exactly as `lab verify` lays them.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadLabs } from '../lab-schema.js';
import { ROOT, STATE_DIR } from '../paths.js';
import { stageTree, variantsOf } from '../trees.js';

const dirs: string[] = [];
for (const lab of loadLabs()) {
  dirs.push(stageTree(lab, { kind: 'solution' }).src);
  for (const name of variantsOf(lab)) dirs.push(stageTree(lab, { kind: 'variant', name }).src);
}
const config = join(STATE_DIR, 'tsconfig.trees.json');
writeFileSync(
  config,
  JSON.stringify(
    {
      extends: relative(STATE_DIR, join(ROOT, 'tsconfig.json')),
      include: dirs.map((d) => join(relative(STATE_DIR, d), '**/*.ts')),
      exclude: [],
    },
    null,
    2,
  ),
);
const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', config], {
  stdio: 'inherit',
  cwd: ROOT,
});
if (r.status === 0) console.log(`type-checked ${dirs.length} solution and variant trees`);
process.exit(r.status ?? 1);
