/**
 * Prints a fingerprint of every staged tree (solution and variants of every lab): one line per
 * file, "lab tree path sha256". Used once to prove that converting variants to diffs changed no
 * staged tree: run it before and after, and compare the outputs.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadLabs } from '../lab-schema.js';
import { stageTree } from '../trees.js';
import { variantsOf } from '../variants.js';

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)) : [join(dir, e)]));
}

for (const lab of loadLabs()) {
  const trees = [{ kind: 'solution' as const }, ...variantsOf(lab).map((name) => ({ kind: 'variant' as const, name }))];
  for (const spec of trees) {
    const { src, label } = stageTree(lab, spec);
    for (const f of walk(src))
      console.log(`${lab.id} ${label.replace(' ', ':')} ${relative(src, f)} ${createHash('sha256').update(readFileSync(f)).digest('hex')}`);
  }
}
