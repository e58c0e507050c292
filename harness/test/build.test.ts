/**
 * Compiled trees and the vendor bundle their service hosts load (build.ts): a tree that imports
 * only the bundled libraries gets them from the bundle, any other tree loads node_modules as it is.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildTree, vendorBundle, VENDOR_MARK } from '../build.js';
import { ROOT } from '../paths.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tree-'));
  for (const [name, code] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), code);
  }
  return dir;
}

const vendor = vendorBundle(['express', 'pg'])!;

describe('vendor bundle', () => {
  test('when the libraries bundle then each gets a shim beside one CommonJS file', () => {
    expect(vendor).toBeDefined();
    expect(existsSync(vendor.bundle)).toBe(true);
    expect(Object.keys(vendor.shims).sort()).toEqual(['express', 'pg']);
  });

  test('when a tree imports only bundled libraries then its imports point at the shims', () => {
    const src = tree({
      'app.ts': `import express from 'express';\nimport pg from 'pg';\nimport { helper } from './lib/helper.js';\nimport { readFileSync } from 'node:fs';\nexport const x = [express, pg, helper, readFileSync];\n`,
      'lib/helper.ts': `import type { Request } from 'express';\nexport const helper = (r?: Request) => r;\n`,
    });
    const out = buildTree(src, vendor);
    expect(readFileSync(join(out, VENDOR_MARK), 'utf8')).toBe(vendor.bundle);
    const app = readFileSync(join(out, 'app.js'), 'utf8');
    expect(app).toContain(`from "file://${vendor.shims.express}"`);
    expect(app).toContain(`from "file://${vendor.shims.pg}"`);
    expect(app).toContain('from "./lib/helper.js"');
    expect(app).toContain('from "node:fs"');
  });

  test('when a tree imports another package, or can load code the build cannot see, then it is compiled as it is', () => {
    for (const code of [
      `import express from 'express';\nimport { z } from 'zod';\nexport const x = [express, z];\n`,
      `import { createRequire } from 'node:module';\nimport express from 'express';\nexport const x = [express, createRequire(import.meta.url)('pg')];\n`,
      `import express from 'express';\nconst name = 'pg';\nexport const load = () => import(name);\nexport const x = express;\n`,
    ]) {
      const out = buildTree(tree({ 'app.ts': code }), vendor);
      expect(existsSync(join(out, VENDOR_MARK)), code).toBe(false);
      expect(readFileSync(join(out, 'app.js'), 'utf8')).toContain('from "express"');
    }
  });

  test('when a shim is imported then it has the exports Node gives the library itself, from the bundle', () => {
    const check = `
      const { createRequire } = await import('node:module');
      globalThis[Symbol.for('backend-labs.vendor')] = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})(${JSON.stringify(vendor.bundle)});
      const out = {};
      for (const [p, shim] of Object.entries(${JSON.stringify(vendor.shims)})) {
        const real = await import(p);
        const viaShim = await import(shim);
        out[p] = { same: JSON.stringify(Object.keys(real).sort()) === JSON.stringify(Object.keys(viaShim).sort()),
                   defaultKind: typeof viaShim.default, fromBundle: viaShim.default !== real.default };
      }
      process.stdout.write(JSON.stringify(out));`;
    const got = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', check], { cwd: ROOT, encoding: 'utf8' }));
    expect(got).toEqual({
      express: { same: true, defaultKind: 'function', fromBundle: true },
      pg: { same: true, defaultKind: 'object', fromBundle: true },
    });
  });
});
