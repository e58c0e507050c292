/**
 * The queue is pg-boss on the lab's Postgres: what the API sends and reads back, and what workers
 * fetch, complete and fail. pg-boss keeps jobs in its own schema (pgboss) and takes a job with one
 * statement, `SELECT … FOR UPDATE SKIP LOCKED` inside an `UPDATE … SET state = 'active'`, so two
 * workers never take the same job and neither waits for the other. A job carries its retry policy
 * and its lease (expire_in) from the moment it is sent; pg-boss's maintenance fails an active job
 * whose lease has expired (its worker died) back to retry.
 */
import PgBoss from 'pg-boss';
import type { ReceiptPayload } from './receipts.js';
import type { Settings } from './settings.js';

export const QUEUE = 'send-receipt';

/** pg-boss counts retry delays and leases in whole seconds: a setting in ms is rounded up (the contract says "at least"). */
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Starts pg-boss on the database (making its schema the first time, under its own advisory lock)
 * and makes sure the queue exists. `supervise`: run maintenance (expiring jobs whose lease ran
 * out) every lease; workers do, the API does not.
 */
export async function startBoss(databaseUrl: string, settings: Settings, { max, supervise }: { max: number; supervise: boolean }) {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    max,
    supervise,
    maintenanceIntervalSeconds: seconds(settings.leaseMs),
    schedule: false,
  });
  boss.on('error', (err) => console.error('pg-boss error', err.message));
  await boss.start();
  await boss.createQueue(QUEUE);
  return boss;
}

/**
 * The job's retry policy and lease, fixed when it is sent: maxAttempts runs in all; the n-th retry
 * waits retryDelay × 2^(n − 1) to twice that (pg-boss's jitter only adds); a run that has not
 * finished after the lease is failed by maintenance, and counts as an attempt.
 */
export async function enqueue(boss: PgBoss, settings: Settings, kind: string, payload: ReceiptPayload): Promise<string> {
  const id = await boss.send(kind, payload as unknown as object, {
    retryLimit: settings.maxAttempts - 1,
    retryDelay: seconds(settings.retryBaseMs),
    retryBackoff: true,
    expireInSeconds: seconds(settings.leaseMs),
  });
  if (!id) throw new Error('pg-boss did not queue the job');
  return id;
}

/** pg-boss's states in the lab's words: waiting to run, or for its retry, is queued; failed (every attempt) is dead. */
const STATUS: Record<string, string> = { created: 'queued', retry: 'queued', active: 'running', completed: 'done', failed: 'dead' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function describeJob(boss: PgBoss, id: string) {
  if (!UUID.test(id)) return undefined;
  const job = await boss.getJobById<ReceiptPayload>(QUEUE, id, { includeArchive: true });
  if (!job) return undefined;
  const output = job.output as { message?: string } | null;
  return {
    id: job.id,
    kind: job.name,
    status: STATUS[job.state] ?? job.state,
    // retryCount grows each time the job is taken again; the first run is attempt 1.
    attempts: job.startedOn ? job.retryCount + 1 : 0,
    lastError: job.state === 'completed' ? null : (output?.message ?? null),
    runAt: job.startAfter,
  };
}
