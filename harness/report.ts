/**
 * What a run prints, in the kit's words: a header, one line per test (printed as each test
 * finishes, with the first lines of its teaching message when it fails), and a verdict.
 */
import type { RunResult, TestResult } from './runner.js';

export interface Painter {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function header(lab: string, tree: string, p: Painter): string {
  return p.bold(`${lab} · ${tree}`);
}

/** One test: its mark, name and points, and on failure the first lines of its message. */
export function testLines(t: TestResult, p: Painter): string {
  const mark = t.status === 'passed' ? p.green('✔') : t.status === 'failed' ? p.red('✖') : p.yellow('○');
  const tag = p.dim(`[${t.tier === 'bonus' ? 'bonus ' : ''}${t.points} pt${t.points === 1 ? '' : 's'}]`);
  // A slow test says how long it took: where a run's time goes is part of what it teaches.
  const took = t.durationMs >= 1_000 ? ` ${p.dim(`${(t.durationMs / 1000).toFixed(1)} s`)}` : '';
  const lines = [`  ${mark} ${t.name} ${tag}${took}`];
  if (t.status === 'failed' && t.failure) {
    const first = t.failure
      .split('\n')
      .filter((l) => l.trim() && !/^\s*(- Expected|\+ Received)/.test(l))
      .slice(0, 5);
    // Vitest appends its own ": expected … to …" to our messages; the message already says it.
    for (const l of first)
      lines.push(
        p.dim(
          `      ${l.replace(/^(AssertionError|Error): /, '').replace(/(.{20,}): expected .* to (deeply )?(equal|be|satisfy) .*$/, '$1')}`,
        ),
      );
  }
  return lines.join('\n');
}

/**
 * Whether a run passed: no error outside the tests, at least one test ran, and every test that ran
 * passed. Tests skipped by --filter do not count either way.
 */
export function runPassed(run: RunResult): boolean {
  const ran = run.tests.filter((t) => t.status !== 'skipped');
  return !run.error && ran.length > 0 && ran.every((t) => t.status === 'passed');
}

/** An error outside any test, then PASS/FAIL with tests, points and time. */
export function verdict(run: RunResult, p: Painter): string {
  const lines: string[] = [];
  const ran = run.error ? run.tests : run.tests.filter((t) => t.status !== 'skipped');
  const skipped = run.tests.length - ran.length;
  const passed = ran.filter((t) => t.status === 'passed');
  const pts = passed.reduce((a, t) => a + t.points, 0);
  const max = ran.reduce((a, t) => a + t.points, 0);
  if (run.error) lines.push(p.red(`  ✖ ${run.error.split('\n').slice(0, 6).join('\n    ')}`));
  lines.push(
    `  ${runPassed(run) ? p.green('PASS') : p.red('FAIL')}  ${passed.length}/${ran.length} tests, ${pts}/${max} points, ${(run.durationMs / 1000).toFixed(1)} s` +
      (skipped ? p.dim(` (${skipped} not run: --filter)`) : ''),
  );
  return lines.join('\n');
}

/** The whole report at once (header, every test, verdict), for output that is not streamed. */
export function summary(run: RunResult, p: Painter): string {
  return [header(run.lab, run.tree, p), ...run.tests.map((t) => testLines(t, p)), verdict(run, p)].join('\n');
}
