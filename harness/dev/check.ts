/**
 * `lab dev check`: static checks over every lab, before any container starts (rustlings' `dev
 * check` is the model). Each rule is a function of one lab (or of the kit) that returns problems;
 * `checkKit` runs them all. The last step type-checks every staged solution and variant tree.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { firstIssue, labFolders, loadLab, type Lab } from '../lab-schema.js';
import { LabError } from '../errors.js';
import { ROOT, STATE_DIR } from '../paths.js';
import { checkBank } from '../questions.js';
import { CHANGE_DIFF, filesUnder, stageTree } from '../trees.js';
import { VariantJson, variantsOf } from '../variants.js';

/** What `lab dev new` leaves for its author (dev/scaffold.ts); `lab dev check` reports every one still there. */
export const PLACEHOLDER = /<write: [^>]*>/;

export interface Problem {
  /** The file or folder at fault, relative to the kit's root. */
  where: string;
  message: string;
}

const rel = (root: string, p: string) => relative(root, p).split(sep).join('/');

/** NOTES.md's five sections, in order: what each `## N.` heading must be about. */
export const NOTES_SECTIONS: Array<[string, RegExp]> = [
  ['the concept', /concept/i],
  ['why it matters', /why it matters/i],
  ['the fix', /fix/i],
  ['trade-offs', /trade-?off/i],
  ['follow-ups', /follow-?up|asks? next/i],
];

/** README, load script, a graded test, app.ts, and NOTES.md with its five sections. */
export function checkFiles(lab: Lab, root: string): Problem[] {
  const problems: Problem[] = [];
  const need = (p: string, what: string) => {
    if (!existsSync(p)) problems.push({ where: rel(root, p), message: `missing: ${what}` });
  };
  need(join(lab.dir, 'README.md'), 'the lab README, built around an incident');
  need(join(lab.dir, 'load', 'script.ts'), 'the k6 load script');
  need(join(lab.dir, 'load', 'seed.sql'), 'the demo data `lab serve` and `lab load` seed (what the k6 script expects)');
  need(join(lab.srcDir, 'app.ts'), 'the service, exporting createApp(config)');
  const tests = existsSync(lab.testDir) ? readdirSync(lab.testDir).filter((f) => f.endsWith('.test.ts')) : [];
  if (tests.length === 0) problems.push({ where: rel(root, lab.testDir), message: 'no *.test.ts: a lab needs graded tests' });
  const notes = join(lab.solutionDir, 'NOTES.md');
  need(notes, 'NOTES.md, with its five sections');
  if (existsSync(notes)) {
    const headings = readFileSync(notes, 'utf8')
      .split('\n')
      .filter((l) => /^## \d+\./.test(l));
    NOTES_SECTIONS.forEach(([name, re], i) => {
      const h = headings.find((l) => l.startsWith(`## ${i + 1}.`));
      if (!h || !re.test(h))
        problems.push({
          where: rel(root, notes),
          message: `section ${i + 1} should be "## ${i + 1}. …" about ${name}${h ? `; found "${h}"` : ''}`,
        });
    });
  }
  return problems;
}

/** The layout every lab README shares, in this order (other sections may sit between them). */
export const README_SECTIONS = ['The incident', 'Your task', 'Run it', 'Points'];

/** Title "# Lab NN · …", the interview question quoted with its numbers, then README_SECTIONS in order. */
export function checkReadmeLayout(lab: Lab, root: string): Problem[] {
  const file = join(lab.dir, 'README.md');
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const where = rel(root, file);
  const problems: Problem[] = [];
  if (!lines[0]?.startsWith(`# Lab ${lab.id.slice(0, 2)} · `))
    problems.push({ where, message: `the title should read "# Lab ${lab.id.slice(0, 2)} · …"` });
  const quote = `> **Interview question${lab.questions.length > 1 ? 's' : ''} (${lab.questions.join(', ')} of the 30 in labs/questions.json):**`;
  if (!lines.slice(1, 4).some((l) => l.startsWith(quote)))
    problems.push({ where, message: `under the title, quote the question as "${quote} …"` });
  let at = 0;
  for (const s of README_SECTIONS) {
    const i = lines.indexOf(`## ${s}`, at);
    if (i < 0) {
      problems.push({
        where,
        message: `no "## ${s}" section after "${lines[at]}": a lab README has ${README_SECTIONS.map((x) => `"${x}"`).join(', ')}, in that order`,
      });
      break;
    }
    at = i;
  }
  return problems;
}

/** What `lab dev new` left for the author, "<write: …>", is written everywhere. */
export function checkWritten(lab: Lab, root: string): Problem[] {
  const files = [
    join(lab.dir, 'lab.json'),
    join(lab.dir, 'README.md'),
    join(lab.dir, 'load', 'script.ts'),
    join(lab.solutionDir, 'NOTES.md'),
    ...filesUnder(lab.testDir).map((f) => join(lab.testDir, f)),
  ];
  const problems: Problem[] = [];
  for (const f of files.filter((f) => existsSync(f))) {
    const left = readFileSync(f, 'utf8')
      .split('\n')
      .map((l, i) => [i + 1, PLACEHOLDER.exec(l)?.[0]] as const)
      .filter(([, m]) => m);
    for (const [line, m] of left) problems.push({ where: `${rel(root, f)}:${line}`, message: `still to write: ${m}` });
  }
  return problems;
}

/** The starter shows the learner where to work. */
export function checkTodo(lab: Lab, root: string): Problem[] {
  const todo = filesUnder(lab.srcDir).some((f) => /\/\/ TODO/.test(readFileSync(join(lab.srcDir, f), 'utf8')));
  return todo ? [] : [{ where: rel(root, lab.srcDir), message: 'the starter has no "// TODO": mark where the learner should work' }];
}

/**
 * Tests reach the kit only through harness/testing: node's modules, vitest, the kit's runtime
 * packages, files of their own test folder, and harness/testing/index.js.
 */
export function checkTestImports(lab: Lab, root: string): Problem[] {
  const problems: Problem[] = [];
  const testing = resolve(root, 'harness', 'testing', 'index.js');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const packages = new Set(['vitest', ...Object.keys(pkg.dependencies ?? {})]);
  for (const f of filesUnder(lab.testDir).filter((f) => f.endsWith('.ts'))) {
    const file = join(lab.testDir, f);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g,
    )) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (target === testing) continue;
        const r = relative(lab.testDir, target);
        if (!r.startsWith('..') && !r.startsWith(sep)) continue;
        problems.push({ where: rel(root, file), message: `imports "${spec}": tests use the kit only through harness/testing/index.js` });
      } else if (!packages.has(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!))
        problems.push({
          where: rel(root, file),
          message: `imports "${spec}", which is not a runtime dependency of the kit (nor vitest, nor node:)`,
        });
    }
    // A server the tests run for the service to call must listen where the service reaches it: in
    // `lab grade` the service runs in a sandbox container, for which the grader's loopback is not there.
    if (/\.listen\([^)]*['"](?:127\.0\.0\.1|localhost|::1)['"]/.test(text))
      problems.push({
        where: rel(root, file),
        message: 'listens on loopback by hand: use listenForService(server) (harness/testing), which a sandboxed service can reach',
      });
  }
  return problems;
}

export interface DeclaredTest {
  id: string;
  file: string;
  /** The sentence, when the test is written test('…', points(n, { id }), …) (every lab's are). */
  name?: string;
  points: number;
  tier: 'core' | 'bonus';
}

/** The tests a lab's files declare beside their points (points(3, { id: 'storm' })), in the order they run. */
export function declaredIds(lab: Lab): DeclaredTest[] {
  const out: DeclaredTest[] = [];
  const declared =
    /(?:\btest\(\s*(['"`])((?:(?!\1)[^\\]|\\.)*)\1\s*,\s*)?\b(points|bonus)\(\s*(\d+)\s*,\s*\{[^}]*?\bid:\s*['"]([^'"]+)['"]/g;
  for (const f of filesUnder(lab.testDir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(lab.testDir, f), 'utf8');
    // A sentence written as a template (`… ${LIMIT} …`) reads as it runs when the file sets the constant: const LIMIT = 10.
    const constants = new Map([...text.matchAll(/^const ([A-Z_][A-Z0-9_]*) = ([\d_]+);/gm)].map((c) => [c[1]!, c[2]!.replace(/_/g, '')]));
    const resolve = (name: string | undefined) => name?.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (all, k: string) => constants.get(k) ?? all);
    for (const m of text.matchAll(declared))
      out.push({ id: m[5]!, file: f, name: resolve(m[2]), points: Number(m[4]), tier: m[3] === 'bonus' ? 'bonus' : 'core' });
  }
  return out;
}

const POINTS_START = '<!-- points: written by `lab dev check --fix` from the tests -->';
const POINTS_END = '<!-- end of points -->';

/** A lab's points as its README shows them: each test's sentence (as `lab test` prints it) and points. */
export function pointsTable(tests: DeclaredTest[]): string {
  const sum = (tier: string) => tests.filter((t) => t.tier === tier).reduce((a, t) => a + t.points, 0);
  return [
    '| test | points |',
    '|---|---|',
    ...tests.map((t) => `| ${(t.name ?? t.id).replace(/\|/g, '\\|')} | ${t.points}${t.tier === 'bonus' ? ' (bonus)' : ''} |`),
    '',
    `Core ${sum('core')} point${sum('core') === 1 ? '' : 's'}, bonus ${sum('bonus')}.`,
  ].join('\n');
}

/** The README's points table between its markers must be the one pointsTable writes; `fix` rewrites it. */
export function checkPointsTable(lab: Lab, root: string, fix = false): Problem[] {
  const file = join(lab.dir, 'README.md');
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(POINTS_START);
  const b = text.indexOf(POINTS_END);
  if (a < 0 || b < a) return [{ where: rel(root, file), message: `has no points table between "${POINTS_START}" and "${POINTS_END}"` }];
  const want = `${POINTS_START}\n${pointsTable(declaredIds(lab))}\n${POINTS_END}`;
  if (text.slice(a, b + POINTS_END.length) === want) return [];
  if (fix) {
    writeFileSync(file, text.slice(0, a) + want + text.slice(b + POINTS_END.length));
    return [];
  }
  return [{ where: rel(root, file), message: 'the points table does not match the tests: `lab dev check --fix` rewrites it' }];
}

/**
 * Tests are named by id: each declared once, and every id lab.json and variant.json name is one a
 * test declares (read from the test files, before anything runs; `lab verify` checks the same on a run).
 */
export function checkIds(lab: Lab, root: string): Problem[] {
  const problems: Problem[] = [];
  const ids = declaredIds(lab);
  const known = new Set<string>();
  for (const { id, file } of ids) {
    if (known.has(id))
      problems.push({ where: rel(root, join(lab.testDir, file)), message: `the id "${id}" is declared twice in the lab's tests` });
    known.add(id);
  }
  const unknown = (where: string, key: string, list: string[]) => {
    for (const id of list)
      if (!known.has(id))
        problems.push({ where, message: `${key} names "${id}", but no test declares that id (ids: ${[...known].join(', ')})` });
  };
  unknown(rel(root, join(lab.dir, 'lab.json')), 'starter.fails', lab.starter.fails);
  for (const name of variantsOf(lab)) {
    const parsed = VariantJson.safeParse(JSON.parse(readFileSync(join(lab.solutionDir, 'variants', name, 'variant.json'), 'utf8')));
    if (!parsed.success) continue; // checkVariants reports it
    const where = rel(root, join(lab.solutionDir, 'variants', name, 'variant.json'));
    unknown(where, 'mustFail', parsed.data.mustFail);
    unknown(where, 'mayFail', parsed.data.mayFail);
  }
  return problems;
}

/** Nothing in a lab's folders but what the kit reads. */
export function checkStray(lab: Lab, root: string): Problem[] {
  const problems: Problem[] = [];
  const LAB_ENTRIES = new Set(['lab.json', 'README.md', 'src', 'test', 'load', ...(lab.trees?.length ? ['trees'] : [])]);
  for (const e of readdirSync(lab.dir))
    if (!LAB_ENTRIES.has(e))
      problems.push({ where: rel(root, join(lab.dir, e)), message: `stray: a lab folder holds only ${[...LAB_ENTRIES].join(', ')}` });
  const SOURCE = /\.(ts|sql|lua|json)$/;
  const scratch = /(\.orig|\.rej|~|\.swp|\.bak)$|^\.DS_Store$/;
  for (const d of [lab.srcDir, lab.testDir, join(lab.dir, 'load'), join(lab.dir, 'trees')])
    for (const f of filesUnder(d))
      if (scratch.test(f.split('/').at(-1)!))
        problems.push({ where: rel(root, join(d, f)), message: 'stray: an editor or patch leftover' });
  if (existsSync(lab.solutionDir))
    for (const e of readdirSync(lab.solutionDir)) {
      if (e === 'NOTES.md' || e === 'variants') continue;
      const p = join(lab.solutionDir, e);
      if (statSync(p).isDirectory() ? filesUnder(p).some((f) => !SOURCE.test(f)) : !SOURCE.test(e))
        problems.push({ where: rel(root, p), message: 'stray: a solution holds NOTES.md, variants/ and source files that mirror src/' });
    }
  return problems;
}

/**
 * Each variant: a valid variant.json; only change.diff and the whole files "whole" names, each with
 * its reason; and it still applies to its base.
 */
export function checkVariants(lab: Lab, root: string): Problem[] {
  const problems: Problem[] = [];
  for (const name of variantsOf(lab)) {
    const dir = join(lab.solutionDir, 'variants', name);
    const where = rel(root, dir);
    let v: VariantJson;
    try {
      const parsed = VariantJson.safeParse(JSON.parse(readFileSync(join(dir, 'variant.json'), 'utf8')));
      if (!parsed.success) {
        problems.push({ where: `${where}/variant.json`, message: firstIssue(parsed.error as z.ZodError) });
        continue;
      }
      v = parsed.data;
    } catch (e) {
      problems.push({ where: `${where}/variant.json`, message: `cannot be read: ${(e as Error).message}` });
      continue;
    }
    const files = filesUnder(dir).filter((f) => f !== 'variant.json' && f !== CHANGE_DIFF);
    for (const f of files)
      if (v.whole[f] === undefined)
        problems.push({
          where: `${where}/${f}`,
          message: `a whole file with no reason: make it part of the diff (\`lab dev variant ${lab.slug} ${name}\`, then --save), or give the reason in variant.json's "whole"`,
        });
    for (const f of Object.keys(v.whole))
      if (!files.includes(f))
        problems.push({ where: `${where}/variant.json`, message: `"whole" names ${f}, which the variant does not have` });
    if (!existsSync(join(dir, CHANGE_DIFF)) && files.length === 0)
      problems.push({ where, message: 'the variant changes nothing: it has neither change.diff nor whole files' });
    try {
      stageTree(lab, { kind: 'variant', name });
    } catch (e) {
      if (!(e instanceof LabError)) throw e;
      problems.push({ where, message: e.message });
    }
  }
  return problems;
}

export function knownQuestions(root: string): Set<number> {
  const file = join(root, 'labs', 'questions.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as { questions: Record<string, string> };
  return new Set(Object.keys(json.questions).map(Number));
}

export function checkQuestions(lab: Lab, root: string, known: Set<number>): Problem[] {
  return lab.questions
    .filter((q) => !known.has(q))
    .map((q) => ({
      where: rel(root, join(lab.dir, 'lab.json')),
      message: `question ${q} is not one of the seed questions in labs/questions.json`,
    }));
}

const TABLE_START = '<!-- labs table: written by `lab dev check --fix` from each lab.json -->';
const TABLE_END = '<!-- end of labs table -->';

/** The README's labs table, as lab.json says it should read. */
export function labsTable(labs: Lab[]): string {
  return [
    '| # | lab | level | the question it answers | seed questions |',
    '|---|---|---|---|---|',
    ...labs.map((l) => `| ${l.id.slice(0, 2)} | ${l.slug} | ${l.level} | ${l.question} | ${l.questions.join(', ')} |`),
  ].join('\n');
}

/** The README's table between its markers must be the one labsTable writes; `fix` rewrites it. */
export function checkReadmeTable(root: string, labs: Lab[], fix = false): Problem[] {
  const file = join(root, 'README.md');
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(TABLE_START);
  const b = text.indexOf(TABLE_END);
  if (a < 0 || b < a) return [{ where: 'README.md', message: `has no labs table between "${TABLE_START}" and "${TABLE_END}"` }];
  const want = `${TABLE_START}\n${labsTable(labs)}\n${TABLE_END}`;
  if (text.slice(a, b + TABLE_END.length) === want) return [];
  if (fix) {
    writeFileSync(file, text.slice(0, a) + want + text.slice(b + TABLE_END.length));
    return [];
  }
  return [{ where: 'README.md', message: 'the labs table does not match lab.json: `lab dev check --fix` rewrites it' }];
}

/** Type-checks every staged solution and variant tree, which tsc cannot see on its own. */
export function checkTypes(labs: Lab[], root: string): Problem[] {
  const dirs: string[] = [];
  for (const lab of labs) {
    try {
      if (existsSync(lab.solutionDir)) dirs.push(stageTree(lab, { kind: 'solution' }).src);
      for (const name of variantsOf(lab)) dirs.push(stageTree(lab, { kind: 'variant', name }).src);
    } catch (e) {
      if (!(e instanceof LabError)) throw e; // reported by checkVariants
    }
  }
  if (dirs.length === 0) return [];
  const config = join(STATE_DIR, 'tsconfig.trees.json');
  writeFileSync(
    config,
    JSON.stringify(
      {
        extends: relative(STATE_DIR, join(root, 'tsconfig.json')),
        include: dirs.map((d) => join(relative(STATE_DIR, d), '**/*.ts')),
        exclude: [],
      },
      null,
      2,
    ),
  );
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--pretty', 'false', '-p', config], {
    encoding: 'utf8',
    cwd: root,
  });
  if (r.status === 0) return [];
  const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.trim());
  return lines.map((l) => ({ where: 'staged trees', message: l.replace(STATE_DIR + sep, '.lab/') }));
}

export interface CheckOptions {
  root?: string;
  /** Also type-check the staged trees (the slow step, about 10 s). */
  types?: boolean;
  /** Rewrite what can be generated (the README's labs table) instead of reporting it. */
  fix?: boolean;
}

/** Every rule over every lab. A lab.json that does not load is itself a problem, not a crash. */
export function checkKit(opts: CheckOptions = {}): { labs: number; problems: Problem[] } {
  const root = opts.root ?? ROOT;
  const labsDir = join(root, 'labs');
  const known = knownQuestions(root);
  const problems: Problem[] = [];
  const labs: Lab[] = [];
  for (const id of labFolders(labsDir)) {
    let lab: Lab;
    try {
      lab = loadLab(id, labsDir);
    } catch (e) {
      if (!(e instanceof LabError)) throw e;
      problems.push({ where: `labs/${id}`, message: e.message });
      continue;
    }
    labs.push(lab);
    problems.push(
      ...checkFiles(lab, root),
      ...checkWritten(lab, root),
      ...checkTodo(lab, root),
      ...checkTestImports(lab, root),
      ...checkStray(lab, root),
      ...checkQuestions(lab, root, known),
      ...checkVariants(lab, root),
      ...checkIds(lab, root),
      ...checkPointsTable(lab, root, opts.fix),
      ...checkReadmeLayout(lab, root),
    );
  }
  problems.push(...checkReadmeTable(root, labs, opts.fix));
  problems.push(...checkBank(root));
  if (opts.types !== false) problems.push(...checkTypes(labs, root));
  return { labs: labs.length, problems };
}
