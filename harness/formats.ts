/** Grade reports: JSON (one result per test), JUnit XML, Markdown, GitHub Classroom, and a class CSV. */
import type { LabGrade, LearnerGrade } from './grade.js';

export function toJson(g: LearnerGrade): string {
  return (
    JSON.stringify(
      {
        version: 1,
        learner: g.learner,
        points: g.points,
        maxPoints: g.maxPoints,
        labs: g.labs.map((l) => ({
          lab: l.lab,
          points: l.points,
          maxPoints: l.maxPoints,
          core: l.core,
          bonus: l.bonus,
          hintsUsed: l.hintsUsed,
          hintsRecorded: l.hintsRecorded,
          hintsAre: 'self-reported',
          integrity: l.integrity,
          error: l.error ?? null,
          tests: l.tests.map((t) => ({
            id: t.id ?? null,
            name: t.name,
            status: t.status,
            tier: t.tier,
            points: t.status === 'passed' ? t.points : 0,
            maxPoints: t.points,
            durationMs: t.durationMs,
            message: t.failure ?? null,
          })),
        })),
      },
      null,
      2,
    ) + '\n'
  );
}

const xml = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function toJUnit(g: LearnerGrade): string {
  const suites = g.labs.map((l) => {
    const failures = l.tests.filter((t) => t.status !== 'passed').length;
    const time = (l.durationMs / 1000).toFixed(3);
    const cases = l.tests.map((t) => {
      const open = `    <testcase classname="${xml(`${g.learner}.${l.lab}`)}" name="${xml(t.name)}" time="${(t.durationMs / 1000).toFixed(3)}">`;
      const props = `      <properties><property name="id" value="${xml(t.id ?? '')}"/><property name="points" value="${t.points}"/><property name="tier" value="${t.tier}"/></properties>`;
      const fail =
        t.status === 'passed'
          ? ''
          : `\n      <failure message="${xml((t.failure ?? t.status).split('\n')[0]!)}">${xml(t.failure ?? '')}</failure>`;
      return `${open}\n${props}${fail}\n    </testcase>`;
    });
    const err = l.error ? `\n    <system-err>${xml(l.error)}</system-err>` : '';
    return `  <testsuite name="${xml(`${g.learner} · ${l.lab}`)}" tests="${l.tests.length}" failures="${failures}" time="${time}">\n${cases.join('\n')}${err}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="backend-labs" tests="${g.labs.reduce((a, l) => a + l.tests.length, 0)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

function labLine(l: LabGrade): string {
  return `| ${l.lab} | ${l.core.points}/${l.core.max} | ${l.bonus.points}/${l.bonus.max} | ${l.points}/${l.maxPoints} | ${l.hintsUsed} | ${[...l.integrity, ...(l.error ? [l.error.split('\n')[0]!] : [])].join('; ') || '—'} |`;
}

export function toMarkdown(g: LearnerGrade): string {
  const lines = [
    `# ${g.learner}: ${g.points}/${g.maxPoints} points`,
    '',
    '| lab | core | bonus | total | hints used (self-reported) | notes |',
    '|---|---|---|---|---|---|',
  ];
  lines.push(...g.labs.map(labLine));
  for (const l of g.labs) {
    lines.push('', `## ${l.lab}`, '');
    for (const t of l.tests) {
      const mark = t.status === 'passed' ? '✅' : '❌';
      lines.push(`- ${mark} ${t.name} — ${t.status === 'passed' ? t.points : 0}/${t.points}${t.tier === 'bonus' ? ' (bonus)' : ''}`);
      if (t.status !== 'passed' && t.failure) lines.push(`  - ${t.failure.split('\n')[0]!.replace(/^(AssertionError|Error): /, '')}`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * The JSON that GitHub Classroom's autograding reporter reads (base64-encoded, in a step output
 * named `result`): version 1, a status, max_score and one entry per test with its score.
 */
export function toClassroom(g: LearnerGrade): string {
  const tests = g.labs.flatMap((l) =>
    l.tests.map((t) => ({
      name: `${l.lab}: ${t.name}`,
      status: t.status === 'passed' ? 'pass' : l.error && t.status !== 'failed' ? 'error' : 'fail',
      message: t.failure ?? '',
      test_code: `lab grade ${l.lab}`,
      filename: '',
      line_no: 0,
      execution_time: `${(t.durationMs / 1000).toFixed(2)}s`,
      score: t.status === 'passed' ? t.points : 0,
    })),
  );
  return (
    JSON.stringify(
      { version: 1, status: tests.every((t) => t.status === 'pass') ? 'pass' : 'fail', max_score: g.maxPoints, tests },
      null,
      2,
    ) + '\n'
  );
}

const csvCell = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

export function classCsv(grades: LearnerGrade[], labs: string[]): string {
  const header = ['learner', ...labs.flatMap((l) => [`${l} points`, `${l} max`, `${l} hints`]), 'total', 'max', 'flags'];
  const rows = grades.map((g) => {
    const cells: (string | number)[] = [g.learner];
    for (const lab of labs) {
      const l = g.labs.find((x) => x.lab === lab);
      cells.push(l?.points ?? 0, l?.maxPoints ?? 0, l?.hintsUsed ?? 0);
    }
    const flags = g.labs.flatMap((l) => [...l.integrity, ...(l.error ? [`${l.lab}: ${l.error.split('\n')[0]}`] : [])]);
    cells.push(g.points, g.maxPoints, flags.join(' | '));
    return cells.map(csvCell).join(',');
  });
  return [header.join(','), ...rows].join('\n') + '\n';
}
