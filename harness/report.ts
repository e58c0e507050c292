/** The one-screen summary printed after a run. */
import type { RunResult } from './runner.js';

export interface Painter {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function summary(run: RunResult, p: Painter): string {
  const lines: string[] = [];
  const passed = run.tests.filter((t) => t.status === 'passed');
  const pts = passed.reduce((a, t) => a + t.points, 0);
  const max = run.tests.reduce((a, t) => a + t.points, 0);
  lines.push(p.bold(`${run.lab} · ${run.tree}`));
  if (run.error) lines.push(p.red(`  ✖ ${run.error.split('\n').slice(0, 6).join('\n    ')}`));
  for (const t of run.tests) {
    const mark = t.status === 'passed' ? p.green('✔') : t.status === 'failed' ? p.red('✖') : p.yellow('○');
    const tag = p.dim(`[${t.tier === 'bonus' ? 'bonus ' : ''}${t.points} pt${t.points === 1 ? '' : 's'}]`);
    lines.push(`  ${mark} ${t.name} ${tag}`);
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
  }
  const verdict = run.tests.length > 0 && passed.length === run.tests.length && !run.error ? p.green('PASS') : p.red('FAIL');
  lines.push(`  ${verdict}  ${passed.length}/${run.tests.length} tests, ${pts}/${max} points, ${(run.durationMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}
