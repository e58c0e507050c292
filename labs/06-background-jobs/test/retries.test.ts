/**
 * A job that keeps failing (the provider refuses it every time): retries spaced further and further
 * apart, a dead-letter state after the last allowed attempt, and a queue that keeps draining
 * meanwhile. Each drill has its own provider stub, its API and two worker processes, all with the
 * drill's settings, as one deploy of the service gets them: a queue library fixes a job's retry
 * policy when the job is queued.
 */
import { describe, expect, test } from 'vitest';
import { points, useLab } from '../../../harness/testing/index.js';
import { describeCounts, enqueue, readJobs, waitForJobs } from './jobs.js';
import { MailerStub, type MailCall } from './mailer-stub.js';

const lab = useLab({ instances: 0 });

const MAX_ATTEMPTS = 4;
const RETRY_BASE_MS = 300;
/** What the provider says to the poison order, every time. */
const REFUSAL = 'mailbox unavailable: the address bounced';
/**
 * Timers and two clocks (the stub's, Postgres's): a retry may look this much early and still count
 * as on time. Measured first gaps of correct fixes: 350–496 ms for a 300 ms minimum (the poll
 * interval comes on top); a hot loop's are 0–350 ms, and its later ones no longer than its first.
 */
const CLOCK_SLACK_MS = 25;
/**
 * The drain test's bound. Measured during whole `lab verify` runs (2 cores fully busy): correct
 * fixes drained the 100 jobs in 0.6–5.0 s; a queue that keeps retrying the failing jobs at once
 * drained none of them in 15 s (every worker takes the oldest ready job, always a failing one).
 */
const DRAIN_S = 15;

interface Drill {
  calls: MailCall[];
  status: string;
  lastError: string | null;
  attempts: number;
}

let drill: Promise<Drill> | undefined;

/** One poison job, two workers; ends when the job is dead, when it has been tried more often than allowed, or after 20 s. */
function poisonDrill(): Promise<Drill> {
  drill ??= (async () => {
    const stub = await MailerStub.start();
    try {
      const order = 'order-poison';
      stub.failAlways(order, 503, REFUSAL);
      const settings = { mailerUrl: stub.url, maxAttempts: MAX_ATTEMPTS, retryBaseMs: RETRY_BASE_MS };
      const api = await lab.startService({ instances: 1, settings });
      const workers = await lab.startWorkers({ instances: 2, settings });
      const [id] = await enqueue(api, [order]);
      const end = performance.now() + 20_000;
      let row = (await readJobs(api, [id!]))[0]!;
      while (row.status !== 'dead' && stub.callsFor(order).length <= MAX_ATTEMPTS && performance.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        row = (await readJobs(api, [id!]))[0]!;
      }
      // A little longer: a job marked dead must stay dead.
      await new Promise((r) => setTimeout(r, 500));
      await workers.close();
      row = (await readJobs(api, [id!]))[0]!;
      await api.close();
      return { calls: stub.callsFor(order), status: row.status, lastError: row.lastError, attempts: row.attempts };
    } finally {
      await stub.close();
    }
  })();
  return drill;
}

const gapsOf = (calls: MailCall[]) => calls.slice(1).map((c, i) => c.at - calls[i]!.at);
const ms = (xs: number[]) => `[${xs.map((x) => Math.round(x)).join(', ')}] ms`;

describe('a job that keeps failing', () => {
  test(
    `when a job keeps failing then each retry waits longer: at least ${RETRY_BASE_MS} ms, then twice the wait before it`,
    points(2, { id: 'backoff', timeout: 60_000 }),
    async () => {
      const d = await poisonDrill();
      const gaps = gapsOf(d.calls);
      const want = gaps.map((_, k) => RETRY_BASE_MS * 2 ** k);
      expect(
        d.calls.length,
        `the provider was called ${d.calls.length} time(s) for the failing job: it should be retried (maxAttempts ${MAX_ATTEMPTS})`,
      ).toBeGreaterThanOrEqual(Math.min(3, MAX_ATTEMPTS));
      const early = gaps.slice(0, MAX_ATTEMPTS - 1).findIndex((g, k) => g < want[k]! - CLOCK_SLACK_MS);
      expect(
        early,
        `the attempts came ${ms(gaps.slice(0, 8))} apart${gaps.length > 8 ? ` (${gaps.length} gaps in all)` : ''}; with retryBaseMs ` +
          `${RETRY_BASE_MS} they must be at least ${ms(want.slice(0, MAX_ATTEMPTS - 1))} apart (exponential backoff: each wait ` +
          `at least twice the one before; jitter may add to a wait, never take from it). A failed job that is ready again at ` +
          `once is retried in a hot loop, hammering a provider that is already refusing. Record when it may run next ` +
          `(run_at = now() + retryBaseMs × 2^(attempts − 1)) and take only jobs whose time has come.`,
      ).toBe(-1);
    },
  );

  test(
    `when a job has failed ${MAX_ATTEMPTS} times (maxAttempts) then it is dead, with the provider's error kept, and is not tried again`,
    points(2, { id: 'dead-letter', timeout: 60_000 }),
    async () => {
      const d = await poisonDrill();
      expect(
        { status: d.status, providerCalls: d.calls.length },
        `after ${d.calls.length} calls to the provider the job is '${d.status}' (attempts ${d.attempts}). A job that never ` +
          `succeeds must stop after maxAttempts (${MAX_ATTEMPTS}) and be set aside as 'dead', where people can see it and ` +
          `replay it: retrying for ever wastes the workers and the provider's patience.`,
      ).toEqual({ status: 'dead', providerCalls: MAX_ATTEMPTS });
      expect(
        d.lastError ?? '',
        `last_error should keep why the job died (the provider said "${REFUSAL}"); it holds ${JSON.stringify(d.lastError)}`,
      ).toContain(REFUSAL);
    },
  );

  test(
    `when two jobs keep failing then the queue keeps draining: 100 other jobs queued behind them are all done within ${DRAIN_S} s`,
    points(2, { id: 'drains', timeout: 60_000 }),
    async () => {
      const stub = await MailerStub.start();
      try {
        for (const p of ['order-bad-1', 'order-bad-2']) stub.failAlways(p, 503, REFUSAL);
        // One job at a time per worker, and long waits between retries: a retry that holds its worker
        // while it waits leaves nobody to run the rest.
        const settings = { mailerUrl: stub.url, concurrency: 1, maxAttempts: MAX_ATTEMPTS, retryBaseMs: 2_000 };
        const api = await lab.startService({ instances: 1, settings });
        const poison = await enqueue(api, ['order-bad-1', 'order-bad-2']);
        const others = Array.from({ length: 100 }, (_, i) => `order-dr-${i}`);
        const ids = await enqueue(api, others);
        const workers = await lab.startWorkers({ instances: 2, settings });
        const { counts, ms: took } = await waitForJobs(api, ids, (c) => c.done === ids.length, {
          idleMs: DRAIN_S * 1000,
          maxMs: DRAIN_S * 1000,
          reached: () => stub.reachedFor(others),
        });
        await workers.close();
        const poisonCalls = stub.callsFor('order-bad-1').length + stub.callsFor('order-bad-2').length;
        expect(
          counts,
          `${(took / 1000).toFixed(1)} s after two workers started, the 100 jobs queued behind two failing ones are ` +
            `${describeCounts(counts)}; the failing ones were tried ${poisonCalls} times (${(await readJobs(api, poison)).map((r) => r.status).join(', ')}). ` +
            'A failing job must not occupy the workers: put it back with a later run_at and take the next ready job, ' +
            'instead of retrying it at once or waiting for its retry inside the worker.',
        ).toEqual({ done: 100 });
      } finally {
        await stub.close();
      }
    },
  );
});
