#!/usr/bin/env node
// Entry point of the `lab` command. The CLI is TypeScript; loading it through tsx would send every
// module of Vitest and Testcontainers through tsx's loader hooks (about 2.5 s of CPU on each
// start). Instead it is bundled once with esbuild into .lab/build/cli/, keyed by the content of
// harness/, and run with plain node. Libraries stay external: only the kit's own code is bundled.
import { buildSync } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const harness = dirname(dirname(fileURLToPath(import.meta.url)));
const root = dirname(harness);

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return e.name === 'test' || e.name === 'test-integration' ? [] : sources(p);
      return e.name.endsWith('.ts') ? [p] : [];
    })
    .sort();
}

const hash = createHash('sha256').update('cli-1');
for (const f of sources(harness)) hash.update(f).update('\0').update(readFileSync(f)).update('\0');
const out = join(root, '.lab', 'build', 'cli', `${hash.digest('hex').slice(0, 20)}.mjs`);
if (!existsSync(out)) {
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  buildSync({
    entryPoints: [join(harness, 'cli', 'main.ts')],
    outfile: tmp,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'error',
  });
  renameSync(tmp, out);
  // Older bundles are for harness code that no longer exists (a process still running one has it
  // loaded already).
  for (const old of readdirSync(dirname(out)))
    if (old.endsWith('.mjs') && join(dirname(out), old) !== out) rmSync(join(dirname(out), old), { force: true });
}
const { main } = await import(pathToFileURL(out).href);
process.exit(await main(process.argv.slice(2)));
