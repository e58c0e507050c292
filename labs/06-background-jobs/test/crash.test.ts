/**
 * A worker killed mid-job (SIGKILL: a deploy that did not wait, the OOM killer). The provider stub
 * sends the email and then never answers, so the worker dies after the side effect and before the
 * job is marked done: the case at-least-once delivery exists for. The API and the workers get the
 * same settings, as one deploy of the service does: a queue library fixes a job's lease or retry
 * policy when the job is queued.
 */
import { describe, expect, test } from 'vitest';
import { eventually, points, useLab } from '../../../harness/testing/index.js';
import { enqueue, readJobs } from './jobs.js';
import { MailerStub } from './mailer-stub.js';

const lab = useLab({ instances: 0 });

/** The lease the test gives workers: a job a dead worker held is free again this long after it was taken. */
const LEASE_MS = 1_500;
/** How long after the kill the job may take to be done: the lease, then a generous allowance for a busy machine. */
const RECOVERY_MS = LEASE_MS + 15_000;

describe('a worker that dies mid-job', () => {
  test(
    'when a worker is killed (SIGKILL) mid-job then the job runs again once its lease has expired, and the receipt is emailed once',
    points(3, { id: 'crash-recovery', timeout: 90_000 }),
    async () => {
      const stub = await MailerStub.start();
      try {
        const order = 'order-crash';
        stub.holdFirst(order);
        const settings = { mailerUrl: stub.url, leaseMs: LEASE_MS, concurrency: 1 };
        const api = await lab.startService({ instances: 1, settings });
        const first = await lab.startWorkers({ instances: 1, settings });
        const [id] = await enqueue(api, [order]);
        const reached = await eventually(async () => stub.callsFor(order).length > 0, { timeoutMs: 15_000 });
        expect(reached, 'the worker never called the provider for the queued receipt within 15 s').toBe(true);
        const killed = await first.instances[0]!.kill('SIGKILL');
        expect(killed.signal, `the worker should have died of SIGKILL: ${JSON.stringify(killed)}`).toBe('SIGKILL');
        const [mid] = await readJobs(api, [id!]);

        const second = await lab.startWorkers({ instances: 2, settings });
        const t0 = performance.now();
        const done = await eventually(async () => (await readJobs(api, [id!]))[0]!.status === 'done', {
          timeoutMs: RECOVERY_MS,
          everyMs: 100,
        });
        const tookMs = performance.now() - t0;
        await second.close();
        const [row] = await readJobs(api, [id!]);
        const calls = stub.callsFor(order);
        expect(
          row!.status,
          `${(RECOVERY_MS / 1000).toFixed(1)} s after its worker was killed, the job is still '${row!.status}' ` +
            `(it was '${mid!.status}' right after the kill) and the provider was called ${calls.length} time(s). ` +
            `A job marked running belongs to a worker for ever if nothing ever takes it back: give the claim a lease ` +
            `(locked_until = now() + leaseMs, ${LEASE_MS} ms here) and let a worker take a running job whose lease has expired, ` +
            `or hold the claim in something that dies with the worker (a transaction, a session's advisory lock).`,
        ).toBe('done');
        expect(done).toBe(true);
        // The first call never got its answer: a job that is done was run again, whatever GET /jobs/:id says.
        expect(
          calls.length,
          `the job is reported done, but the provider was called only ${calls.length} time(s): the first call never ` +
            'got its answer, so the job cannot have finished without running again',
        ).toBeGreaterThanOrEqual(2);
        expect(
          stub.sentFor(order),
          `the receipt was emailed ${stub.sentFor(order)} times: the job ran ${calls.length} times (it had to run again, ` +
            `${(tookMs / 1000).toFixed(1)} s after the kill) and each run sent it anew. The provider honours Idempotency-Key: ` +
            `send one that is the same on every attempt of the job (keys seen: ${calls.map((c) => c.key ?? 'none').join(', ')}).`,
        ).toBe(1);
      } finally {
        await stub.close();
      }
    },
  );
});
