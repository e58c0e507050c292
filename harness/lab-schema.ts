import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LABS_DIR, SOLUTIONS_DIR } from './paths.js';

export const SERVICE_NAMES = ['postgres', 'redis', 'replica'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The schema of labs/NN-slug/lab.json. */
export const LabJson = z
  .object({
    slug: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lowercase words joined by hyphens'),
    title: z.string().min(3),
    level: z.enum(['beginner', 'intermediate', 'advanced']),
    questions: z.array(z.number().int().positive()).min(1).describe('seed question numbers'),
    services: z.array(z.enum(SERVICE_NAMES)).min(1),
    hints: z.tuple([z.string().min(10), z.string().min(10), z.string().min(10)]),
    starter: z
      .object({
        fails: z.array(z.string().min(1)).min(1),
        passes: z.array(z.string().min(1)),
      })
      .strict(),
    settings: z.record(z.string(), z.unknown()).default({}),
    /**
     * Labs with a replica: a far-behind standby. At the start of a run the harness makes a
     * database from the lab's pristine schema on the primary, runs `seed` in it, lets a second
     * standby replay that and then cuts it off, before the primary's WAL position gets its eighth
     * hex digit (0/10000000). Tests reach it as lab.farBehind.
     */
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

export class LabError extends Error {}

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
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LabError(`${id}/lab.json: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (parsed.data.slug !== m[2]) throw new LabError(`${id}/lab.json: slug "${parsed.data.slug}" does not match the folder name`);
  if (parsed.data.farBehind && !parsed.data.services.includes('replica'))
    throw new LabError(`${id}/lab.json: farBehind needs the "replica" service`);
  return {
    ...parsed.data,
    id,
    order: Number(m[1]),
    dir,
    srcDir: join(dir, 'src'),
    testDir: join(dir, 'test'),
    solutionDir: join(SOLUTIONS_DIR, id),
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
