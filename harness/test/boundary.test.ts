/**
 * The harness has two sides. harness/servers/ starts and owns containers (Testcontainers, Docker);
 * harness/testing/ is what test workers and labs use, and reaches servers only through the
 * endpoints it is handed. Nothing a test worker loads may reach the servers side.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../paths.js';

const HARNESS = join(ROOT, 'harness');
const SERVERS = join(HARNESS, 'servers');
const TESTING = join(HARNESS, 'testing');
const SERVER_PACKAGES = /^(testcontainers|@testcontainers\/|dockerode|docker-modem)/;

/** Every module specifier a file imports or re-exports, statically or with import(), types included. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const re =
    /(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
  return [...text.matchAll(re)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

function resolveTs(from: string, spec: string): string {
  const p = resolve(dirname(from), spec).replace(/\.js$/, '.ts');
  return existsSync(p) ? p : existsSync(join(p, 'index.ts')) ? join(p, 'index.ts') : p;
}

/** Every harness file reachable from `entry`, with the packages each imports. */
function closure(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    const specs = specifiers(file);
    seen.set(
      file,
      specs.filter((s) => !s.startsWith('.')),
    );
    for (const s of specs) if (s.startsWith('.')) walk(resolveTs(file, s));
  };
  walk(entry);
  return seen;
}

const tsUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

describe('the harness boundary', () => {
  it('nothing reachable from harness/testing lives in harness/servers or loads Testcontainers', () => {
    const reached = new Map<string, string[]>();
    for (const f of tsUnder(TESTING)) for (const [k, v] of closure(f)) reached.set(k, v);
    expect(reached.size).toBeGreaterThan(10);
    const crossing = [...reached.keys()].filter((f) => f.startsWith(SERVERS + '/')).map((f) => relative(ROOT, f));
    const packages = [...reached].flatMap(([f, pkgs]) =>
      pkgs.filter((p) => SERVER_PACKAGES.test(p)).map((p) => `${relative(ROOT, f)} imports ${p}`),
    );
    expect(crossing, 'test-worker code reaches the servers side').toEqual([]);
    expect(packages, 'test-worker code loads a container library').toEqual([]);
  });

  it('harness/servers never imports harness/testing', () => {
    const files = tsUnder(SERVERS);
    expect(files.length).toBeGreaterThan(3);
    const crossing = files.flatMap((f) =>
      specifiers(f)
        .filter((s) => s.startsWith('.') && resolveTs(f, s).startsWith(TESTING + '/'))
        .map((s) => `${relative(ROOT, f)} imports ${s}`),
    );
    expect(crossing).toEqual([]);
  });

  it('only harness/servers imports a container library', () => {
    const outside = tsUnder(HARNESS).filter((f) => !f.startsWith(SERVERS + '/') && !f.includes('/test-integration/'));
    const offenders = outside.flatMap((f) =>
      specifiers(f)
        .filter((s) => SERVER_PACKAGES.test(s))
        .map((s) => `${relative(ROOT, f)} imports ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the rule sees a crossing: a worker-side file that imported servers/ would be caught', () => {
    const fake = join(TESTING, 'context.ts');
    const specs = specifiers(fake);
    expect(specs.length).toBeGreaterThan(3);
    // The same resolution the rule uses, applied to a crossing specifier.
    expect(resolveTs(fake, '../servers/containers.js')).toBe(join(SERVERS, 'containers.ts'));
  });
});
