#!/usr/bin/env node
// Entry point of the `lab` command. The CLI is TypeScript; loading it through tsx would send every
// module of Vitest and Testcontainers through tsx's loader hooks (about 2.5 s of CPU on each
// start). Instead it is bundled once with esbuild into .lab/build/cli/<hash>/, keyed by the content
// of harness/, and run with plain node. Libraries stay external: only the kit's own code is bundled.
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
const dir = join(root, '.lab', 'build', 'cli', hash.digest('hex').slice(0, 20));
const out = join(dir, 'main.js');
if (!existsSync(out)) {
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  // Code splitting: what a command imports lazily (Vitest, Testcontainers) stays out of the
  // chunk every command loads, so that a cheap command stays cheap.
  buildSync({
    entryPoints: { main: join(harness, 'cli', 'main.ts') },
    outdir: tmp,
    bundle: true,
    splitting: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'error',
  });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process built the same bundle first
  }
  // Older bundles are for harness code that no longer exists (a process still running one has it
  // loaded already).
  for (const old of readdirSync(dirname(dir)))
    if (join(dirname(dir), old) !== dir) rmSync(join(dirname(dir), old), { recursive: true, force: true });
}
const { main } = await import(pathToFileURL(out).href);
process.exit(await main(process.argv.slice(2)));
