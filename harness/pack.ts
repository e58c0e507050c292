/**
 * What `lab pack` writes beside a learner's copies: one manifest entry per lab, with the tree's
 * hash, the hints used and the last local result. All of it is the learner's own machine speaking
 * (self-reported, like hints): a grade recomputes everything from the copies themselves.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHints } from './hints.js';
import type { Lab } from './lab-schema.js';
import { statusOf } from './progress.js';
import { filesUnder, learnerDir } from './trees.js';

export interface PackedLab {
  lab: string;
  slug: string;
  /** sha256 over the copy's src/ files, each as path, NUL, content, NUL, in path order. */
  treeHash: string;
  hintsUsed: number;
  /** The last `lab test` of this copy, as this machine recorded it; undefined: never tested (or the record was edited). */
  lastResult?: { points: number; maxPoints: number; passed: number; total: number; at: string };
}

export interface PackManifest {
  kind: 'backend-labs submission';
  learner: string;
  packedAt: string;
  labs: PackedLab[];
}

/** The hash of a src/ folder, as the manifest records it. */
export function treeHash(src: string): string {
  const h = createHash('sha256');
  for (const f of filesUnder(src))
    h.update(f)
      .update('\0')
      .update(readFileSync(join(src, f)))
      .update('\0');
  return h.digest('hex');
}

export function packManifest(labs: Lab[], learner: string): PackManifest {
  return {
    kind: 'backend-labs submission',
    learner,
    packedAt: new Date().toISOString(),
    labs: labs.map((lab) => {
      const dir = learnerDir(lab);
      const status = statusOf(lab);
      const e = status.kind === 'passing' || status.kind === 'failing' ? status.entry : undefined;
      return {
        lab: lab.id,
        slug: lab.slug,
        treeHash: treeHash(join(dir, 'src')),
        hintsUsed: readHints(dir).revealed,
        ...(e ? { lastResult: { points: e.points, maxPoints: e.maxPoints, passed: e.passed, total: e.total, at: e.at } } : {}),
      };
    }),
  };
}
