/**
 * Helpers shared by the background-jobs tests: queue receipts through the API and read each job's
 * state through the API too (GET /jobs/:id), so that the tests judge what the service says about its
 * jobs, whatever keeps them: a jobs table, pg-boss's tables, BullMQ's keys in Redis.
 */
import { expect } from 'vitest';
import { overlap, sleep, type Service } from '../../../harness/testing/index.js';

/** What POST /receipts answers as `jobId`, and GET /jobs/:id knows the job by: an integer or a string. */
export type JobId = number | string;

const isJobId = (v: unknown): v is JobId =>
  (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && v.length > 0 && v.length <= 200);

/** Queues one receipt per order through the API (spread over its instances, 25 at a time); returns the job ids in order. */
export async function enqueue(service: Service, orders: string[]): Promise<JobId[]> {
  const ids: JobId[] = [];
  for (let start = 0; start < orders.length; start += 25) {
    const batch = orders.slice(start, start + 25);
    const answers = await overlap(batch.length, (i) =>
      service.http(start + i).post('/receipts', { orderId: batch[i], email: `${batch[i]}@example.com`, amountCents: 1_999 }),
    );
    for (const [i, a] of answers.entries()) {
      const what = `POST /receipts for ${batch[i]}`;
      if (!a.ok) throw new Error(`${what} failed: ${a.error.message}`);
      expect(a.value.status, `${what} answered ${a.value.status}: ${a.value.text}`).toBe(202);
      expect(isJobId(a.value.body?.jobId), `${what} answered no jobId (an integer or a string): ${a.value.text}`).toBe(true);
      ids.push(a.value.body.jobId);
    }
  }
  expect(new Set(ids).size, `POST /receipts answered ${ids.length - new Set(ids).size} duplicate job ids for ${ids.length} orders`).toBe(
    ids.length,
  );
  return ids;
}

/** A job as GET /jobs/:id shows it. */
export interface JobView {
  id: JobId;
  status: string;
  attempts: number;
  lastError: string | null;
}

/** GETs in flight at once when reading many jobs: enough to be quick, few enough not to load the API. */
const READERS = 8;

/** Reads each job through GET /jobs/:id (a few at a time, spread over the service's instances), in the order given. */
export async function readJobs(service: Service, ids: JobId[]): Promise<JobView[]> {
  const out: JobView[] = new Array(ids.length);
  let next = 0;
  const reader = async () => {
    for (let i = next++; i < ids.length; i = next++) {
      const path = `/jobs/${encodeURIComponent(String(ids[i]))}`;
      const res = await service.http(i).get(path);
      if (res.status !== 200 || typeof res.body?.status !== 'string')
        throw new Error(`GET ${path} answered ${res.status}: ${res.text.slice(0, 200)} (a queued job must be found, with its status)`);
      out[i] = { id: ids[i]!, status: res.body.status, attempts: res.body.attempts, lastError: res.body.lastError ?? null };
    }
  };
  await Promise.all(Array.from({ length: Math.min(READERS, ids.length) }, reader));
  return out;
}

/** done and dead are final: a job in either is never read again while waiting. */
const FINAL = new Set(['done', 'dead']);

const tally = (statuses: string[]) => {
  const counts: Record<string, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
};

/**
 * Waits until `enough` says so of the jobs' statuses, until nothing has changed for `idleMs`, or
 * until `maxMs`; returns the last counts and how long it took (ms). Jobs are read through the API,
 * each until it is done or dead. `reached` (optional) is a free sign of progress that asks the
 * service nothing, such as how many of the jobs the provider stub has been called for: until it
 * reaches `ids.length`, the API is not asked at all (a poll of hundreds of jobs would take CPU from
 * the workers being measured), and a change in it counts as progress.
 */
export async function waitForJobs(
  service: Service,
  ids: JobId[],
  enough: (counts: Record<string, number>) => boolean,
  { idleMs, maxMs, everyMs = 100, reached }: { idleMs: number; maxMs: number; everyMs?: number; reached?: () => number },
): Promise<{ counts: Record<string, number>; ms: number }> {
  const t0 = performance.now();
  const statuses: string[] = new Array(ids.length).fill('unread');
  let last = '';
  let changedAt = t0;
  const timeUp = (now: number) => now - changedAt > idleMs || now - t0 > maxMs;
  for (;;) {
    const sign = reached?.() ?? ids.length;
    let key = `reached ${sign}`;
    let counts: Record<string, number> | undefined;
    const late = timeUp(performance.now());
    if (sign >= ids.length || late) {
      const open = ids.flatMap((id, i) => (FINAL.has(statuses[i]!) ? [] : [i]));
      const views = await readJobs(
        service,
        open.map((i) => ids[i]!),
      );
      for (const [k, i] of open.entries()) statuses[i] = views[k]!.status;
      counts = tally(statuses);
      const now = performance.now();
      if (enough(counts) || late) return { counts, ms: now - t0 };
      key = JSON.stringify(counts);
    }
    const now = performance.now();
    if (key !== last) {
      last = key;
      changedAt = now;
    }
    await sleep(everyMs);
  }
}

export const describeCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ') || 'none';
