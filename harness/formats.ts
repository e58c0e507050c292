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
          sandboxed: l.sandboxed,
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

/**
 * How a lab's grade reads at a glance, by its core points: every core point (full), some points
 * (partial), or none (zero). A mark never says ✔ for an untouched starter that scored a few tests.
 */
export function gradeMark(l: LabGrade): { symbol: '✔' | '◐' | '✖'; word: 'full core' | 'partial' | 'zero' } {
  if (!l.error && l.core.max > 0 && l.core.points === l.core.max) return { symbol: '✔', word: 'full core' };
  if (l.points > 0) return { symbol: '◐', word: 'partial' };
  return { symbol: '✖', word: 'zero' };
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
  const trusted = g.labs.filter((l) => !l.sandboxed).map((l) => l.lab);
  lines.splice(
    2,
    0,
    trusted.length
      ? `Trusted run (--no-sandbox) for ${trusted.join(', ')}: the service ran as the grader's own processes, on servers shared with other submissions.`
      : 'Graded in the sandbox: the service ran in a container of its own, on servers of its own.',
    '',
  );
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
      // Pass means every core point of every lab; bonus points add to the score, never decide the status.
      { version: 1, status: g.labs.every((l) => gradeMark(l).word === 'full core') ? 'pass' : 'fail', max_score: g.maxPoints, tests },
      null,
      2,
    ) + '\n'
  );
}

const csvCell = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

/** Each lab's tests, by id, in the order grades list them (every grade of a lab lists the same tests). */
function testsByLab(grades: LearnerGrade[], labs: string[]): Map<string, Array<{ id: string; name: string }>> {
  const out = new Map<string, Array<{ id: string; name: string }>>();
  for (const lab of labs) {
    const seen = new Map<string, string>();
    for (const g of grades)
      for (const l of g.labs) if (l.lab === lab) for (const t of l.tests) if (t.id && !seen.has(t.id)) seen.set(t.id, t.name);
    out.set(
      lab,
      [...seen].map(([id, name]) => ({ id, name })),
    );
  }
  return out;
}

/**
 * One row per learner: per lab its mark, core, bonus, total, hints and when it was graded, then one
 * column per test (pass or fail, by id); the class total and the flags last. Shards of one class
 * (lab grade --shard) write the same header, so their rows concatenate.
 */
export function classCsv(grades: LearnerGrade[], labs: string[]): string {
  const tests = testsByLab(grades, labs);
  const header = [
    'learner',
    ...labs.flatMap((l) => [
      `${l} mark`,
      `${l} core`,
      `${l} core max`,
      `${l} bonus`,
      `${l} bonus max`,
      `${l} points`,
      `${l} max`,
      `${l} hints`,
      `${l} graded at`,
      ...tests.get(l)!.map((t) => `${l}: ${t.id}`),
    ]),
    'total',
    'max',
    'flags',
  ];
  const rows = grades.map((g) => {
    const cells: (string | number)[] = [g.learner];
    for (const lab of labs) {
      const l = g.labs.find((x) => x.lab === lab);
      if (!l) {
        cells.push('', 0, 0, 0, 0, 0, 0, 0, '', ...tests.get(lab)!.map(() => ''));
        continue;
      }
      cells.push(
        gradeMark(l).word,
        l.core.points,
        l.core.max,
        l.bonus.points,
        l.bonus.max,
        l.points,
        l.maxPoints,
        l.hintsUsed,
        l.gradedAt ?? '',
      );
      for (const t of tests.get(lab)!) cells.push(l.tests.find((x) => x.id === t.id)?.status === 'passed' ? 'pass' : 'fail');
    }
    const flags = g.labs.flatMap((l) => [...l.integrity, ...(l.error ? [`${l.lab}: ${l.error.split('\n')[0]}`] : [])]);
    cells.push(g.points, g.maxPoints, flags.join(' | '));
    return cells.map(csvCell).join(',');
  });
  return [header.map(csvCell).join(','), ...rows].join('\n') + '\n';
}

/** What an instructor paces by: per lab, how many learners got each mark, and the tests most often failed. */
export function classSummary(grades: LearnerGrade[], labs: string[]): string {
  const tests = testsByLab(grades, labs);
  const lines = [`# Class summary: ${grades.length} learner${grades.length === 1 ? '' : 's'}`];
  for (const lab of labs) {
    const mine = grades.flatMap((g) => g.labs.filter((l) => l.lab === lab));
    const count = (w: string) => mine.filter((l) => gradeMark(l).word === w).length;
    lines.push('', `## ${lab}`, '', `full core ${count('full core')} · partial ${count('partial')} · zero ${count('zero')}`, '');
    const failed = tests
      .get(lab)!
      .map((t) => ({ ...t, n: mine.filter((l) => l.tests.find((x) => x.id === t.id)?.status !== 'passed').length }))
      .filter((t) => t.n > 0)
      .sort((a, b) => b.n - a.n || a.id.localeCompare(b.id));
    if (failed.length === 0) lines.push('Every learner passed every test.');
    else {
      lines.push('| failed by | test |', '|---|---|');
      for (const t of failed) lines.push(`| ${t.n} of ${mine.length} | ${t.name} (${t.id}) |`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * One class CSV from several (the shards of one class, graded on several runners): the same
 * header in each, each learner once. Anything else is refused, naming the file: concatenating
 * mismatched CSVs would put scores under the wrong columns.
 */
export function mergeClassCsv(files: Array<{ name: string; text: string }>): string {
  if (files.length === 0) throw new Error('no CSV to merge');
  const header = files[0]!.text.split('\n')[0]!;
  const seen = new Map<string, string>();
  const rows: string[] = [];
  for (const f of files) {
    const [head, ...body] = f.text.replace(/\n$/, '').split('\n');
    if (head !== header)
      throw new Error(`${f.name} has other columns than ${files[0]!.name}: merge CSVs of the same labs, graded by the same kit`);
    for (const row of body) {
      const learner = row.startsWith('"') ? row.slice(1, row.indexOf('"', 1)) : row.split(',')[0]!;
      const other = seen.get(learner);
      if (other !== undefined)
        throw new Error(`${learner} is in both ${other} and ${f.name}: each learner must be graded once (--shard I/N splits a class)`);
      seen.set(learner, f.name);
      rows.push(row);
    }
  }
  return [header, ...rows].join('\n') + '\n';
}
