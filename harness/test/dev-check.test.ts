import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkKit, labsTable } from '../dev/check.js';
import { scaffold } from '../dev/scaffold.js';
import { editVariant, saveVariant } from '../dev/variant.js';
import { loadLab } from '../lab-schema.js';
import { ROOT } from '../paths.js';

/** A scratch kit: package.json, the question list, a README with its table markers, one scaffolded lab. */
let root: string;
let id: string;
const lab = () => loadLab(id, join(root, 'labs'));
const problems = () => checkKit({ root, types: false }).problems;
const messages = () => problems().map((p) => `${p.where}: ${p.message}`);
/** Problems other than the "<write: …>" a fresh scaffold leaves on purpose. */
const structural = () => messages().filter((m) => !m.includes('still to write'));

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dev-check-'));
  mkdirSync(join(root, 'labs'));
  cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  cpSync(join(ROOT, 'labs', 'questions.json'), join(root, 'labs', 'questions.json'));
  cpSync(join(ROOT, 'labs', 'questions'), join(root, 'labs', 'questions'), { recursive: true });
  id = scaffold({ slug: 'widgets', question: 16 }, join(root, 'labs')).id;
  writeFileSync(join(root, 'README.md'), '# kit\n');
  writeFileSync(
    join(root, 'README.md'),
    `# kit\n\n<!-- labs table: written by \`lab dev check --fix\` from each lab.json -->\n${labsTable([lab()])}\n<!-- end of labs table -->\n`,
  );
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('lab dev new, then lab dev check', () => {
  it('scaffolds a lab that passes every structural rule and lists only what is left to write', () => {
    expect(id).toBe('01-widgets');
    expect(structural()).toEqual([]);
    const left = messages();
    expect(left.length).toBeGreaterThanOrEqual(10);
    expect(left).toContain(
      'labs/01-widgets/lab.json:5: still to write: <write: the interview question this lab answers, as a learner would hear it?>',
    );
    expect(left.some((m) => m.startsWith('solutions/01-widgets/NOTES.md:'))).toBe(true);
  });

  it('refuses a second lab with the same slug, and numbers the next one after the last', () => {
    expect(() => scaffold({ slug: 'widgets', question: 16 }, join(root, 'labs'))).toThrow(/exists already/);
    expect(scaffold({ slug: 'gadgets', question: 14 }, join(root, 'labs')).id).toBe('02-gadgets');
  });
});

describe('lab dev check rules', () => {
  it('a starter with no // TODO', () => {
    const app = join(lab().srcDir, 'app.ts');
    writeFileSync(app, readFileSync(app, 'utf8').replace('// TODO:', '//'));
    expect(structural()).toEqual(['labs/01-widgets/src: the starter has no "// TODO": mark where the learner should work']);
  });

  it('a missing README, load script, or NOTES section', () => {
    rmSync(join(lab().dir, 'README.md'));
    rmSync(join(lab().dir, 'load', 'script.ts'));
    rmSync(join(lab().dir, 'load', 'seed.sql'));
    const notes = join(lab().solutionDir, 'NOTES.md');
    writeFileSync(notes, readFileSync(notes, 'utf8').replace('## 4. Trade-offs and failure modes', '## 4. Odds and ends'));
    expect(structural()).toEqual([
      'labs/01-widgets/README.md: missing: the lab README, built around an incident',
      'labs/01-widgets/load/script.ts: missing: the k6 load script',
      'labs/01-widgets/load/seed.sql: missing: the demo data `lab serve` and `lab load` seed (what the k6 script expects)',
      'solutions/01-widgets/NOTES.md: section 4 should be "## 4. …" about trade-offs; found "## 4. Odds and ends"',
    ]);
  });

  it('a test that imports the harness, the service, or a package the kit does not ship', () => {
    const t = join(lab().testDir, 'widgets.test.ts');
    appendFileSync(
      t,
      "import { ROOT } from '../../../harness/paths.js';\nimport '../src/app.js';\nimport nock from 'nock';\nimport { readFileSync } from 'node:fs';\n",
    );
    expect(structural()).toEqual([
      'labs/01-widgets/test/widgets.test.ts: imports "../../../harness/paths.js": tests use the kit only through harness/testing/index.js',
      'labs/01-widgets/test/widgets.test.ts: imports "../src/app.js": tests use the kit only through harness/testing/index.js',
      'labs/01-widgets/test/widgets.test.ts: imports "nock", which is not a runtime dependency of the kit (nor vitest, nor node:)',
    ]);
  });

  it('a test server that listens on loopback by hand, which a sandboxed service cannot reach', () => {
    appendFileSync(
      join(lab().testDir, 'widgets.test.ts'),
      "\nconst stub = require('node:http').createServer();\nstub.listen(0, '127.0.0.1');\n",
    );
    expect(structural()).toEqual([
      'labs/01-widgets/test/widgets.test.ts: listens on loopback by hand: use listenForService(server) (harness/testing), which a sandboxed service can reach',
    ]);
  });

  it('stray files in a lab, its starter and its solution', () => {
    writeFileSync(join(lab().dir, 'notes.txt'), 'x');
    writeFileSync(join(lab().srcDir, 'app.ts.orig'), 'x');
    writeFileSync(join(lab().solutionDir, 'scratch.md'), 'x');
    expect(structural()).toEqual([
      'labs/01-widgets/notes.txt: stray: a lab folder holds only lab.json, README.md, src, test, load',
      'labs/01-widgets/src/app.ts.orig: stray: an editor or patch leftover',
      'solutions/01-widgets/scratch.md: stray: a solution holds NOTES.md, variants/ and source files that mirror src/',
    ]);
  });

  it('a seed question the kit does not know', () => {
    const file = join(lab().dir, 'lab.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"questions": [\n    16\n  ]', '"questions": [\n    16,\n    31\n  ]'));
    expect(structural()).toEqual([
      'labs/01-widgets/lab.json: question 31 is not one of the seed questions in labs/questions.json',
      'labs/01-widgets/README.md: under the title, quote the question as "> **Interview questions (16, 31 of the 30 in labs/questions.json):** …"',
      'README.md: the labs table does not match lab.json: `lab dev check --fix` rewrites it',
    ]);
  });

  it('a README labs table that no longer matches lab.json, which --fix rewrites', () => {
    const file = join(lab().dir, 'lab.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"level": "intermediate"', '"level": "advanced"'));
    expect(structural()).toEqual(['README.md: the labs table does not match lab.json: `lab dev check --fix` rewrites it']);
    checkKit({ root, types: false, fix: true });
    expect(structural()).toEqual([]);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('| 01 | widgets | advanced |');
  });

  it('an id declared twice, and ids in lab.json or variant.json that no test declares', () => {
    const t = join(lab().testDir, 'widgets.test.ts');
    writeFileSync(t, readFileSync(t, 'utf8') + "\ntest('when again then again', points(1, { id: 'item-found' }), () => {});\n");
    const file = join(lab().dir, 'lab.json');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('"fails": [\n      "item-found"\n    ]', '"fails": [\n      "item-missing"\n    ]'),
    );
    expect(structural()).toEqual([
      'labs/01-widgets/test/widgets.test.ts: the id "item-found" is declared twice in the lab\'s tests',
      'labs/01-widgets/lab.json: starter.fails names "item-missing", but no test declares that id (ids: item-found)',
      'labs/01-widgets/README.md: the points table does not match the tests: `lab dev check --fix` rewrites it',
    ]);
  });

  it('a README points table that no longer matches the tests, which --fix rewrites as lab test reads', () => {
    const t = join(lab().testDir, 'widgets.test.ts');
    writeFileSync(
      t,
      readFileSync(t, 'utf8')
        .replace("'when an item exists then either instance returns it'", '`when an item exists then either of ${N} instances returns it`')
        .replace('const lab = useLab', 'const N = 2;\nconst lab = useLab') +
        "\ntest('bonus: when asked twice then it answers twice', bonus(2, { id: 'twice' }), () => {});\n",
    );
    expect(structural()).toEqual([
      'labs/01-widgets/README.md: the points table does not match the tests: `lab dev check --fix` rewrites it',
    ]);
    checkKit({ root, types: false, fix: true });
    expect(structural()).toEqual([]);
    expect(readFileSync(join(lab().dir, 'README.md'), 'utf8')).toContain(
      [
        '| test | points |',
        '|---|---|',
        '| when an item exists then either of 2 instances returns it | 1 |',
        '| bonus: when asked twice then it answers twice | 2 (bonus) |',
        '',
        'Core 1 point, bonus 2.',
      ].join('\n'),
    );
  });

  it('a lab README that strays from the shared layout: its title, and a section missing or out of order', () => {
    const file = join(lab().dir, 'README.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('# Lab 01 · Widgets', '# Widgets').replace('## Run it', '## Running it'));
    expect(structural()).toEqual([
      'labs/01-widgets/README.md: the title should read "# Lab 01 · …"',
      'labs/01-widgets/README.md: no "## Run it" section after "## Your task": a lab README has "The incident", "Your task", "Run it", "Points", in that order',
    ]);
  });

  it('a lab.json that does not load is a problem, not a crash', () => {
    writeFileSync(join(lab().dir, 'lab.json'), '{');
    expect(structural()[0]).toMatch(/^labs\/01-widgets: 01-widgets\/lab.json cannot be read/);
  });

  describe('variants', () => {
    function makeVariant(name: string, edit: (src: string) => void, json: object = {}) {
      const dir = join(lab().solutionDir, 'variants', name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'variant.json'),
        JSON.stringify(
          { kind: 'decoy', base: 'solution', description: 'a decoy for the checks', mustFail: ['item-found'], ...json },
          null,
          2,
        ) + '\n',
      );
      const src = editVariant(lab(), name, true);
      edit(src);
      saveVariant(lab(), name, src, {});
      return dir;
    }
    const breakQuery = (src: string) => {
      const app = join(src, 'app.ts');
      writeFileSync(app, readFileSync(app, 'utf8').replace('WHERE id = $1', 'WHERE id = $1 + 1'));
    };

    it('a variant saved as a diff passes; one whose base changed under it no longer applies', () => {
      makeVariant('off-by-one', breakQuery);
      expect(structural()).toEqual([]);
      const app = join(lab().solutionDir, 'app.ts');
      writeFileSync(
        app,
        readFileSync(app, 'utf8').replace('SELECT id, name FROM items WHERE id = $1', 'SELECT id, name FROM items WHERE id = $1::bigint'),
      );
      expect(structural()).toEqual([
        'solutions/01-widgets/variants/off-by-one: variant off-by-one no longer applies to the solution: app.ts: hunk 1 (@@ -17 +17 @@) no longer matches; it expects "app.get(\'/items/:id\', async (req, res) => {"',
      ]);
    });

    it('a whole file with no reason, a reason for a file it does not have, a variant that changes nothing', () => {
      const dir = makeVariant('off-by-one', breakQuery);
      writeFileSync(join(dir, 'extra.ts'), 'export {};\n');
      const json = join(dir, 'variant.json');
      writeFileSync(
        json,
        JSON.stringify({ ...JSON.parse(readFileSync(json, 'utf8')), whole: { 'gone.ts': 'a rewrite of the whole module' } }),
      );
      makeVariant('nothing', () => {});
      expect(structural()).toEqual([
        `solutions/01-widgets/variants/nothing: the variant changes nothing: it has neither change.diff nor whole files`,
        `solutions/01-widgets/variants/off-by-one/extra.ts: a whole file with no reason: make it part of the diff (\`lab dev variant widgets off-by-one\`, then --save), or give the reason in variant.json's "whole"`,
        'solutions/01-widgets/variants/off-by-one/variant.json: "whole" names gone.ts, which the variant does not have',
      ]);
    });

    it('a variant based on another variant is that variant plus its own diff; a base that loops is reported', () => {
      makeVariant('off-by-one', breakQuery);
      const dir = makeVariant(
        'off-by-two',
        (src) => {
          const app = join(src, 'app.ts');
          writeFileSync(app, readFileSync(app, 'utf8').replace('$1 + 1', '$1 + 2'));
        },
        { base: 'variant:off-by-one' },
      );
      expect(readFileSync(join(dir, 'change.diff'), 'utf8')).toContain(
        "-    const { rows } = await pool.query('SELECT id, name FROM items WHERE id = $1 + 1', [id]);",
      );
      expect(structural()).toEqual([]);
      const first = join(lab().solutionDir, 'variants', 'off-by-one', 'variant.json');
      writeFileSync(first, readFileSync(first, 'utf8').replace('"base": "solution"', '"base": "variant:off-by-two"'));
      expect(structural()).toContain(
        'solutions/01-widgets/variants/off-by-one: variant off-by-one is its own base (off-by-one → off-by-two → off-by-one)',
      );
    });

    it('a variant.json the schema rejects', () => {
      const json = join(makeVariant('bad', breakQuery), 'variant.json');
      writeFileSync(json, JSON.stringify({ ...JSON.parse(readFileSync(json, 'utf8')), mustFail: [] }));
      expect(structural()).toEqual([
        'solutions/01-widgets/variants/bad/variant.json: (root): a decoy must name at least one test it fails',
      ]);
    });
  });
});
