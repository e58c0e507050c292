/**
 * Two workers, one queue: every job runs once, and fast. Each test starts a mail provider stub of
 * its own (mailer-stub.ts) and two worker processes (createWorker), so a guard kept in one
 * process's memory protects nothing.
 */
import { describe, expect, test } from 'vitest';
import { bonus, points, useLab } from '../../../harness/testing/index.js';
import { describeCounts, enqueue, waitForJobs } from './jobs.js';
import { MailerStub } from './mailer-stub.js';

const lab = useLab({ instances: 2 });

const JOBS = 500;
/**
 * The bonus's bar: jobs per second that two workers of 4 slots each drain when every email takes
 * the provider 200 ms. Jobs side by side make at most 8 / 0.2 s = 40/s; workers that wait for one
 * another's locks run one job at a time, at most 1 / 0.2 s = 5/s. Measured during a whole `lab
 * verify` of this lab (2 cores fully busy, six trees at once): correct fixes drained 21.7–35.5
 * jobs/s, the lock-waiting decoy 4.4/s. 10/s is twice the most a serialised queue can do, and under
 * half the least a correct fix did.
 */
const MIN_JOBS_PER_S = 10;
const PROVIDER_MS = 200;
const THROUGHPUT_JOBS = 100;

async function withStub<T>(fn: (stub: MailerStub) => Promise<T>): Promise<T> {
  const stub = await MailerStub.start();
  try {
    return await fn(stub);
  } finally {
    await stub.close();
  }
}

describe('a queue two workers share', () => {
  test(
    'when a receipt is queued then the API answers 202 with its job id, and a worker sends it and marks it done',
    points(1, { id: 'receipt-sent' }),
    () =>
      withStub(async (stub) => {
        const bad = await lab.service.http(0).post('/receipts', { orderId: 'o-1' });
        expect(bad.status, `a receipt with no email should be refused with 400, got ${bad.status}: ${bad.text}`).toBe(400);
        // One worker, one job at a time: this test is about the round trip, not about races.
        const workers = await lab.startWorkers({ instances: 1, settings: { mailerUrl: stub.url, concurrency: 1 } });
        const [id] = await enqueue(lab.service, ['order-first']);
        const { counts } = await waitForJobs(lab.service, [id!], (c) => c.done === 1, { idleMs: 15_000, maxMs: 15_000 });
        await workers.close();
        expect(counts, `15 s after it was queued the job is ${describeCounts(counts)}`).toEqual({ done: 1 });
        expect(stub.sentFor('order-first'), 'the receipt should have been emailed once').toBe(1);
        const viaApi = await lab.service.http(1).get(`/jobs/${id}`);
        expect(viaApi.body).toMatchObject({ id, status: 'done' });
      }),
  );

  test(
    `when ${JOBS} receipts are queued while two workers run then each job runs exactly once (one call to the provider) and ends done`,
    points(3, { id: 'exactly-once' }),
    () =>
      withStub(async (stub) => {
        const workers = await lab.startWorkers({ instances: 2, settings: { mailerUrl: stub.url } });
        const orders = Array.from({ length: JOBS }, (_, i) => `order-eo-${i}`);
        const ids = await enqueue(lab.service, orders);
        const { counts } = await waitForJobs(lab.service, ids, (c) => c.done === JOBS, {
          idleMs: 10_000,
          maxMs: 90_000,
          reached: () => stub.reachedFor(orders),
        });
        await workers.close();
        const twice = orders.filter((o) => stub.callsFor(o).length > 1);
        const never = orders.filter((o) => stub.callsFor(o).length === 0);
        const example = twice[0];
        const gap = example ? Math.abs(stub.callsFor(example)[1]!.at - stub.callsFor(example)[0]!.at) : 0;
        expect(
          { ranTwiceOrMore: twice.length, neverRan: never.length },
          `${twice.length} of ${JOBS} jobs ran more than once` +
            (example ? ` (e.g. ${example}: ${stub.callsFor(example).length} calls to the provider, ${gap.toFixed(1)} ms apart)` : '') +
            `, ${never.length} never ran; the jobs are ${describeCounts(counts)}. ` +
            'Two workers read the same queued row before either marked it running, and both ran it. Taking a job must be one ' +
            'step no other worker can interleave with: lock the row as you pick it and skip rows others have locked ' +
            '(UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING …). A guard in one process’s memory ' +
            'cannot see the other worker.',
        ).toEqual({ ranTwiceOrMore: 0, neverRan: 0 });
        expect(counts, `every job should end done; they are ${describeCounts(counts)}`).toEqual({ done: JOBS });
      }),
  );

  test(
    `bonus: when every email takes the provider ${PROVIDER_MS} ms then two workers drain ${THROUGHPUT_JOBS} jobs at ${MIN_JOBS_PER_S} jobs/s or more`,
    bonus(2, { id: 'throughput' }),
    () =>
      withStub(async (stub) => {
        stub.slow(PROVIDER_MS);
        const orders = Array.from({ length: THROUGHPUT_JOBS }, (_, i) => `order-tp-${i}`);
        const ids = await enqueue(lab.service, orders);
        // The queue is full before the workers start: the clock measures draining alone.
        const deadline = (THROUGHPUT_JOBS / MIN_JOBS_PER_S) * 1000;
        const workers = await lab.startWorkers({ instances: 2, settings: { mailerUrl: stub.url, concurrency: 4 } });
        const { counts, ms } = await waitForJobs(lab.service, ids, (c) => c.done === THROUGHPUT_JOBS, {
          idleMs: deadline,
          maxMs: deadline,
          everyMs: 50,
          reached: () => stub.reachedFor(orders),
        });
        await workers.close();
        const rate = ((counts.done ?? 0) * 1000) / ms;
        const twice = orders.filter((o) => stub.callsFor(o).length > 1).length;
        // A bonus is for a fix that is correct first: speed from running jobs twice is no speed.
        expect(twice, `${twice} of ${THROUGHPUT_JOBS} jobs ran more than once: see the exactly-once test`).toBe(0);
        expect(
          rate,
          `two workers of 4 slots drained ${counts.done ?? 0} of ${THROUGHPUT_JOBS} jobs in ${(ms / 1000).toFixed(1)} s: ` +
            `${rate.toFixed(1)} jobs/s (${describeCounts(counts)}). With ${PROVIDER_MS} ms per email, 8 jobs ` +
            `side by side make at most ${Math.round(8000 / PROVIDER_MS)}/s; one at a time makes ${Math.round(1000 / PROVIDER_MS)}/s. ` +
            'Workers that wait for each other’s row locks (FOR UPDATE without SKIP LOCKED, held while the job runs) run one job at a time.',
        ).toBeGreaterThanOrEqual(MIN_JOBS_PER_S);
      }),
  );
});
