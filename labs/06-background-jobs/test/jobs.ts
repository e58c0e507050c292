/** Helpers shared by the background-jobs tests: queue receipts through the API, read the jobs table. */
import { expect } from 'vitest';
import { overlap, sleep, type LabContext, type Service } from '../../../harness/testing/index.js';

/** Queues one receipt per order through the API (spread over its instances, 25 at a time); returns the job ids in order. */
export async function enqueue(service: Service, orders: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (let start = 0; start < orders.length; start += 25) {
    const batch = orders.slice(start, start + 25);
    const answers = await overlap(batch.length, (i) =>
      service.http(start + i).post('/receipts', { orderId: batch[i], email: `${batch[i]}@example.com`, amountCents: 1_999 }),
    );
    for (const [i, a] of answers.entries()) {
      const what = `POST /receipts for ${batch[i]}`;
      if (!a.ok) throw new Error(`${what} failed: ${a.error.message}`);
      expect(a.value.status, `${what} answered ${a.value.status}: ${a.value.text}`).toBe(202);
      expect(Number.isSafeInteger(a.value.body?.jobId), `${what} answered no jobId: ${a.value.text}`).toBe(true);
      ids.push(a.value.body.jobId);
    }
  }
  return ids;
}

export interface JobRow {
  id: number;
  status: string;
  attempts: number;
  lastError: string | null;
}

export async function jobRows(lab: LabContext, ids: number[]): Promise<JobRow[]> {
  const { rows } = await lab.db.query('SELECT id, status, attempts, last_error FROM jobs WHERE id = ANY($1::bigint[]) ORDER BY id', [ids]);
  return rows.map((r) => ({ id: Number(r.id), status: r.status, attempts: r.attempts, lastError: r.last_error }));
}

export async function countByStatus(lab: LabContext, ids: number[]): Promise<Record<string, number>> {
  const { rows } = await lab.db.query('SELECT status, count(*)::int AS n FROM jobs WHERE id = ANY($1::bigint[]) GROUP BY status', [ids]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * Polls the jobs' statuses until `enough` says so, until nothing has changed for `idleMs`, or until
 * `maxMs`; returns the last counts and how long it took (ms).
 */
export async function waitForJobs(
  lab: LabContext,
  ids: number[],
  enough: (counts: Record<string, number>) => boolean,
  { idleMs, maxMs, everyMs = 100 }: { idleMs: number; maxMs: number; everyMs?: number },
): Promise<{ counts: Record<string, number>; ms: number }> {
  const t0 = performance.now();
  let last = '';
  let changedAt = t0;
  for (;;) {
    const counts = await countByStatus(lab, ids);
    const now = performance.now();
    if (enough(counts)) return { counts, ms: now - t0 };
    const key = JSON.stringify(counts);
    if (key !== last) {
      last = key;
      changedAt = now;
    }
    if (now - changedAt > idleMs || now - t0 > maxMs) return { counts, ms: now - t0 };
    await sleep(everyMs);
  }
}

export const describeCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ') || 'none';
