import { LabError } from './errors.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { LABS_DIR } from './paths.js';
import { SERVICE_NAMES, type ServiceName } from './services.js';

const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * A test's id, declared beside its points (points(3, { id: 'storm' })): lab.json, variant.json and
 * grades name a test by it, so rewording a test's sentence touches the test file alone.
 */
export const TestId = z
  .string()
  .regex(KEBAB, 'an id is lowercase words joined by hyphens, e.g. "zero-deadlocks"')
  .max(32, 'an id is short (at most 32 characters): the sentence says the rest');

/** Test ids, each listed once. */
export const TestIds = z.array(TestId).superRefine((ids, ctx) => {
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) ctx.addIssue({ code: 'custom', message: `"${twice}" is listed twice` });
});

/** The schema of labs/NN-slug/lab.json. */
export const LabJson = z
  .object({
    slug: z.string().regex(KEBAB, 'lowercase words joined by hyphens'),
    title: z.string().min(3),
    /** The interview question the lab answers, as a learner would hear it (the README's labs table shows it). */
    question: z.string().min(10),
    level: z.enum(['beginner', 'intermediate', 'advanced']),
    questions: z.array(z.number().int().positive()).min(1).describe('seed question numbers'),
    services: z.array(z.enum(SERVICE_NAMES as [ServiceName, ...ServiceName[]])).min(1),
    hints: z.tuple([z.string().min(10), z.string().min(10), z.string().min(10)]),
    /** The ids of the tests the starter fails; it must pass every other test. */
    starter: z.strictObject(
      { fails: TestIds.min(1, 'a starter fails at least one test: the one the lab is about') },
      {
        error: (iss) =>
          iss.code === 'unrecognized_keys' && iss.keys.includes('passes')
            ? '"passes" is no longer read: the starter must pass every test that "fails" does not list. Delete it.'
            : undefined,
      },
    ),
    settings: z.record(z.string(), z.unknown()).default({}),
    /**
     * Labs with a replica: a far-behind standby. At the start of a run the harness makes a
     * database from the lab's pristine schema on the primary, runs `seed` in it, lets a second
     * standby replay that and then cuts it off, before the primary's WAL position gets its eighth
     * hex digit (0/10000000). Tests reach it as lab.farBehind.
     */
    /**
     * For `lab serve` and `lab load`: stubs of outside services the lab's service calls, each
     * filling a setting with its URL. Each route ("POST /charges") answers a status and a JSON body,
     * in which "{n}" counts the calls.
     */
    serve: z
      .object({
        /**
         * Worker processes of the tree's createWorker(config) to run beside the instances: a count,
         * or groups of them, each with settings of its own over lab.json's (a tree whose workers
         * play several parts, e.g. { "instances": 1, "settings": { "service": "orders" } }).
         */
        workers: z
          .union([
            z.number().int().min(0).max(8),
            z
              .array(
                z.object({ instances: z.number().int().min(1).max(8), settings: z.record(z.string(), z.unknown()).optional() }).strict(),
              )
              .max(8),
          ])
          .optional(),
        stubs: z
          .record(
            z.string(),
            z.record(
              z.string().regex(/^[A-Z]+ \/\S*$/, 'a route reads "METHOD /path"'),
              z.object({ status: z.number().int(), body: z.unknown() }).strict(),
            ),
          )
          .optional(),
      })
      .strict()
      .optional(),
    /**
     * Trees a test may start instances of beside the tree under test (lab.startService({ tree })),
     * e.g. v1 of a service while v2 rolls out: "solution" (the reference fix), or the name of a tree
     * the lab ships in labs/NN-slug/trees/NAME (a folder with its own app.ts).
     */
    trees: z.array(z.string().regex(KEBAB, 'a tree is named in lowercase words joined by hyphens')).optional(),
    farBehind: z
      .object({
        seed: z.string().min(1).describe('SQL run once in the far-behind database, on the primary, before the standby is cut off'),
      })
      .strict()
      .optional(),
  })
  .strict();
export type LabJson = z.infer<typeof LabJson>;

export interface Lab extends LabJson {
  /** Folder name, e.g. 01-deadlocks. */
  id: string;
  order: number;
  dir: string;
  srcDir: string;
  testDir: string;
  solutionDir: string;
}

/** A schema's first complaint about a file, where it is and what is wrong: "starter.fails.0: an id is …". */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}

export function loadLab(id: string, labsDir = LABS_DIR): Lab {
  const dir = join(labsDir, id);
  const m = /^(\d{2})-(.+)$/.exec(id);
  if (!m) throw new LabError(`lab folder ${id} is not named NN-slug`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8'));
  } catch (e) {
    throw new LabError(`${id}/lab.json cannot be read: ${(e as Error).message}`);
  }
  const parsed = LabJson.safeParse(raw);
  if (!parsed.success) throw new LabError(`${id}/lab.json: ${firstIssue(parsed.error)}`);
  if (parsed.data.slug !== m[2]) throw new LabError(`${id}/lab.json: slug "${parsed.data.slug}" does not match the folder name`);
  if (parsed.data.farBehind && !parsed.data.services.includes('replica'))
    throw new LabError(`${id}/lab.json: farBehind needs the "replica" service`);
  for (const t of parsed.data.trees ?? [])
    if (t !== 'solution' && !existsSync(join(dir, 'trees', t, 'app.ts')))
      throw new LabError(`${id}/lab.json: trees names "${t}", but ${id}/trees/${t}/app.ts does not exist`);
  return {
    ...parsed.data,
    id,
    order: Number(m[1]),
    dir,
    srcDir: join(dir, 'src'),
    testDir: join(dir, 'test'),
    // solutions/ sits beside labs/ (a scratch kit in a test has both).
    solutionDir: join(dirname(labsDir), 'solutions', id),
  };
}

/** Lab folder names (NN-slug) in course order, without reading them. */
export function labFolders(labsDir = LABS_DIR): string[] {
  if (!existsSync(labsDir)) return [];
  return readdirSync(labsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d{2}-[a-z0-9-]+$/.test(d.name))
    .map((d) => d.name)
    .sort();
}

export function loadLabs(labsDir = LABS_DIR): Lab[] {
  return labFolders(labsDir).map((id) => loadLab(id, labsDir));
}

/**
 * Finds a lab by slug ("deadlocks"), folder ("01-deadlocks") or number ("1", "01"). Reads only
 * that lab's lab.json, so one broken lab never stops the others from running.
 */
export function findLab(query: string, labsDir = LABS_DIR): Lab {
  const q = query.trim().toLowerCase();
  const ids = labFolders(labsDir);
  const id = ids.find((f) => f === q || f.slice(3) === q || (/^\d+$/.test(q) && Number(f.slice(0, 2)) === Number(q)));
  if (id) return loadLab(id, labsDir);
  const names = ids.map((f) => f.slice(3)).join(', ');
  throw new LabError(`unknown lab "${query}". Labs: ${names}. Run \`lab list\` to see them in order.`);
}
