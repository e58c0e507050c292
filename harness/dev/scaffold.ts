/**
 * `lab dev new SLUG`: scaffolds labs/NN-slug/ and solutions/NN-slug/ as a lab that already works
 * end to end: its starter fails its one test and its solution passes it (`lab verify SLUG`), and
 * `lab dev check` passes every structural rule. What is left is content, each place marked
 * "<write: …>", which `lab dev check` lists until it is written.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labFolders, type LabJson } from '../lab-schema.js';
import { LabError } from '../errors.js';
import { LABS_DIR } from '../paths.js';
import { pointsTable } from './check.js';

export interface NewLab {
  slug: string;
  question: number;
  level?: LabJson['level'];
}

export function scaffold(opts: NewLab, labsDir = LABS_DIR): { id: string; files: string[] } {
  const { slug, question } = opts;
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug)) throw new LabError(`"${slug}" is not a slug: lowercase words joined by hyphens, e.g. outbox`);
  const folders = labFolders(labsDir);
  if (folders.some((f) => f.slice(3) === slug)) throw new LabError(`a lab named ${slug} exists already`);
  const n = Math.max(0, ...folders.map((f) => Number(f.slice(0, 2)))) + 1;
  if (n > 99) throw new LabError('lab numbers go up to 99');
  const id = `${String(n).padStart(2, '0')}-${slug}`;
  const lab = join(labsDir, id);
  const solution = join(labsDir, '..', 'solutions', id);
  if (existsSync(lab) || existsSync(solution)) throw new LabError(`${id} exists already`);
  const title = slug.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());

  const labJson = {
    slug,
    title,
    level: opts.level ?? 'intermediate',
    question: '<write: the interview question this lab answers, as a learner would hear it?>',
    questions: [question],
    services: ['postgres'],
    hints: [
      '<write: hint 1, where to look: which test, which figure in its message>',
      '<write: hint 2, the idea of the fix, in the concept’s terms>',
      '<write: hint 3, close to the code, without giving all of it>',
    ],
    starter: { fails: ['item-found'] },
    settings: {},
  };

  // The starter's service, and the fix its solution makes of it (the one place they differ).
  const TODO = `    // TODO: read the item from the items table; answer 404 when there is none.
    res.status(501).json({ error: 'not implemented' });`;
  const FIX = `    const { rows } = await pool.query('SELECT id, name FROM items WHERE id = $1', [id]);
    if (rows.length === 0) return res.status(404).json({ error: 'no such item' });
    res.json({ id: Number(rows[0].id), name: rows[0].name });`;
  const app = `import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';

export interface Config {
  databaseUrl: string;
  settings?: Record<string, unknown>;
}

/** The service: builds its own clients from the URLs it is given; nothing connects at import. */
export function createApp(config: Config) {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (err) => console.error('idle pg client error', err));

  const app = express();
  app.use(express.json());

  app.get('/items/:id', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id)) return res.status(400).json({ error: 'id must be an integer' });
    // TODO: read the item from the items table; answer 404 when there is none.
    res.status(501).json({ error: 'not implemented' });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    console.error('request failed', err);
    res.status(500).json({ error: 'internal error' });
  });

  return { app, close: () => pool.end() };
}
`;
  if (!app.includes(TODO)) throw new Error('scaffold: the starter app lost its TODO');

  const files: Record<string, string> = {
    [join(lab, 'lab.json')]: JSON.stringify(labJson, null, 2) + '\n',
    [join(lab, 'README.md')]: `# Lab ${id.slice(0, 2)} · ${title}

> **Interview question (${question} of the 30 in labs/questions.json):** <write: the question, as in lab.json>

## The incident

<write: what broke in production, what users saw, the numbers on the dashboard>

## The service

<write: what the service does, its routes and tables, and how the tests run it (how many instances)>

## Your task

<write: what to make true, in the terms the tests use; which file holds the TODOs>

## Run it

\`\`\`
npx lab test ${slug}
npx lab watch ${slug}
\`\`\`

## Points

<!-- points: written by \`lab dev check --fix\` from the tests -->
${pointsTable([{ id: 'item-found', file: `${slug}.test.ts`, name: 'when an item exists then either instance returns it', points: 1, tier: 'core' }])}
<!-- end of points -->
`,
    [join(lab, 'src', 'app.ts')]: app,
    [join(lab, 'src', 'schema.sql')]: `-- The harness applies this file to a template database; every test file gets a fresh copy.
CREATE TABLE items (
  id   bigint PRIMARY KEY,
  name text   NOT NULL
);
`,
    [join(lab, 'test', `${slug}.test.ts`)]: `/** Graded tests for the ${slug} lab. */
import { describe, expect, test } from 'vitest';
import { evidence, points, useLab } from '../../../harness/testing/index.js';

const lab = useLab({ instances: 2 });

describe('${slug}', () => {
  test('when an item exists then either instance returns it', points(1, { id: 'item-found' }), async () => {
    await lab.db.query("INSERT INTO items (id, name) VALUES (1, 'first')");
    const answers = [await lab.service.http(0).get('/items/1'), await lab.service.http(1).get('/items/1')];
    // A figure for the learner's before/after card (never points): record it before the assertion that may fail.
    evidence('instances that found the item', answers.filter((r) => r.status === 200).length, { of: 2 });
    for (const [i, res] of answers.entries()) {
      expect(res.status, \`instance \${i + 1} answered \${res.status} for an item that exists\`).toBe(200);
      expect(res.body).toEqual({ id: 1, name: 'first' });
    }
  });
});
`,
    [join(lab, 'load', 'seed.sql')]: `-- Demo data for \`lab serve ${slug}\` and \`lab load ${slug}\`: what the k6 script reads.
INSERT INTO items (id, name) VALUES (1, 'first'), (2, 'second');
`,
    [join(lab, 'load', 'script.ts')]: `/**
 * k6 load for the ${slug} lab. <write: the traffic model and the SLO it checks>
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 labs/${id}/load/script.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: { steady: { executor: 'constant-vus', vus: 20, duration: '30s' } },
  thresholds: { http_req_failed: ['rate==0'], http_req_duration: ['p(95)<250'] },
};

const BASE = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';

export default function () {
  const res = http.get(\`\${BASE}/items/1\`);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
`,
    // The fix: the starter with its TODO done.
    [join(solution, 'app.ts')]: app.replace(TODO, FIX),
    [join(solution, 'NOTES.md')]: `# ${title}: notes on the reference solution

## 1. The concept

<write: the concept, plainly, with one example>

## 2. Why it matters

<write: what goes wrong in production without it, with numbers>

## 3. The fix and why it works

<write: the fix, and why it is correct under concurrency and failure>

## 4. Trade-offs and failure modes

<write: what the fix costs, and when another fix is better>

## 5. What an interviewer asks next

<write: the follow-up questions, each with a short answer>
`,
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
  }
  mkdirSync(join(solution, 'variants'), { recursive: true });
  return { id, files: Object.keys(files) };
}
