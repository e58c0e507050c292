/**
 * Turns low-level failures into the concept behind them. Used by lab tests to build failure
 * messages, and by the CLI to annotate crashes. Output is regression-tested in harness/test.
 */

export interface Concept {
  code: string;
  name: string;
  /** One line: what to look at. */
  look: string;
}

/** Postgres SQLSTATE codes and client-side failures that labs teach about. */
export const CONCEPTS: Concept[] = [
  {
    code: '40P01',
    name: 'deadlock detected',
    look: 'two transactions lock the same rows in opposite orders; take locks in one global order (e.g. by id).',
  },
  {
    code: '40001',
    name: 'serialization failure',
    look: 'under REPEATABLE READ/SERIALIZABLE a conflicting transaction won; roll back and retry the whole transaction.',
  },
  {
    code: '23505',
    name: 'unique violation',
    look: 'two writers raced to insert the same key; the constraint held, so handle the conflict (ON CONFLICT, or map it to a 409).',
  },
  {
    code: '53300',
    name: 'too many connections',
    look: 'the pools of all instances together ask for more than max_connections; size the pools (max) for the whole fleet.',
  },
  {
    code: '25P02',
    name: 'transaction aborted',
    look: 'a statement failed inside a transaction and the code went on without ROLLBACK; roll back before retrying.',
  },
  { code: '57014', name: 'statement timeout', look: 'a query ran past statement_timeout; make it cheaper or bound the work per request.' },
  {
    code: 'POOL_TIMEOUT',
    name: 'pool acquire timeout',
    look: 'every pool client was checked out (leaked or held across slow work); release clients in finally, and size the pool.',
  },
  {
    code: 'REDIS_OFFLINE_QUEUE',
    name: 'Redis offline queue',
    look: 'ioredis queued the command while Redis was unreachable; set enableOfflineQueue/maxRetriesPerRequest/commandTimeout so a dead Redis fails fast.',
  },
];

const byCode = new Map(CONCEPTS.map((c) => [c.code, c]));

export function concept(code: string): Concept | undefined {
  return byCode.get(code);
}

/** "deadlock detected (40P01)" */
export function conceptLabel(code: string): string {
  const c = byCode.get(code);
  return c ? `${c.name} (${c.code})` : `SQLSTATE ${code}`;
}

/** Finds the codes of known failures in text (service logs, error bodies). Returns code → count. */
export function scanForConcepts(text: string): Map<string, number> {
  const found = new Map<string, number>();
  const bump = (code: string) => found.set(code, (found.get(code) ?? 0) + 1);
  for (const m of text.matchAll(/\bcode:\s*'([0-9A-Z]{5})'|"code"\s*:\s*"([0-9A-Z]{5})"|\bSQLSTATE\s+([0-9A-Z]{5})/g))
    bump((m[1] ?? m[2] ?? m[3])!);
  for (const line of text.split('\n')) {
    if (/timeout exceeded when trying to connect/.test(line)) bump('POOL_TIMEOUT');
    if (/enableOfflineQueue|Stream isn't writeable|MaxRetriesPerRequestError/.test(line)) bump('REDIS_OFFLINE_QUEUE');
  }
  return found;
}

/** A line per known concept found: "  - deadlock detected (40P01) ×7: two transactions lock …" */
export function explainFound(found: Map<string, number>): string {
  return [...found.entries()]
    .filter(([code]) => byCode.has(code))
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `  - ${conceptLabel(code)} ×${n}: ${byCode.get(code)!.look}`)
    .join('\n');
}

export interface Outcome {
  status: number;
  body?: unknown;
  error?: string;
}

/**
 * Summarises a batch of HTTP outcomes: "7 of 50 transfers failed (7 × HTTP 500)".
 * `ok` decides which outcomes count as success.
 */
export function summarizeOutcomes(what: string, outcomes: Outcome[], ok: (o: Outcome) => boolean): string {
  const bad = outcomes.filter((o) => !ok(o));
  const groups = new Map<string, number>();
  for (const o of bad) {
    const key = o.error ? `no answer (${o.error})` : `HTTP ${o.status}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const detail = [...groups.entries()].map(([k, n]) => `${n} × ${k}`).join(', ');
  return `${bad.length} of ${outcomes.length} ${what} failed${detail ? ` (${detail})` : ''}`;
}
