/**
 * End to end: `lab test` through the real CLI and containers prints one report in the kit's
 * words, streamed: every test once, no second report from Vitest, and the verdict last.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { findLab } from '../lab-schema.js';
import { ROOT } from '../paths.js';
import { collectTests } from '../runner.js';

let run: ReturnType<typeof spawnSync>;
let names: string[];

beforeAll(async () => {
  names = (await collectTests(findLab('deadlocks'))).map((t) => t.name);
  run = spawnSync(process.execPath, [join(ROOT, 'harness/cli/bin.js'), 'test', 'deadlocks', '--starter'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
}, 300_000);

describe('lab test', () => {
  test('when the starter is tested then it exits 1 and says FAIL with its points', () => {
    expect(run.status, String(run.stderr)).toBe(1);
    expect(String(run.stdout).trim().split('\n').at(-1)).toMatch(/^ {2}FAIL {2}3\/7 tests, 3\/12 points, [\d.]+ s$/);
  });

  test('when tests finish then each one is printed exactly once, and nothing of Vitest’s own report', () => {
    const out = String(run.stdout);
    for (const n of names) expect(out.split(n).length - 1, `"${n}" should be printed once`).toBe(1);
    expect(out).not.toMatch(/Test Files|Tests {2}\d|JSON report|Duration/);
    expect(out).toMatch(/^deadlocks · starter$/m);
  });
});
