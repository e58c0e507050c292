/**
 * The worker process: one BullMQ Worker running `settings.concurrency` jobs at once. BullMQ takes
 * each job atomically, holds a lock on it while it runs (renewed every leaseMs / 2), and records
 * the outcome: done, or failed and delayed for its retry, or failed for good after maxAttempts.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE } from './queue.js';
import { sendReceipt, type Job } from './receipts.js';
import { Settings } from './settings.js';

export interface WorkerConfig {
  databaseUrl: string;
  redisUrl?: string;
  settings?: Record<string, unknown>;
}

async function run(job: Job, settings: Settings): Promise<void> {
  if (job.kind === 'send-receipt') return sendReceipt(job, settings);
  throw new Error(`no handler for jobs of kind ${job.kind}`);
}

/** Starts the worker; close() stops taking jobs, lets the running ones finish, and closes the connection. */
export function createWorker(config: WorkerConfig) {
  const settings = Settings.parse(config.settings ?? {});
  if (!config.redisUrl) throw new Error('the BullMQ worker needs redisUrl');
  // A worker blocks on Redis while it waits for jobs: BullMQ requires retrying commands for ever.
  const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(
    QUEUE,
    (job) => run({ id: job.id!, kind: job.name, payload: job.data, attempts: job.attemptsStarted }, settings),
    {
      connection,
      concurrency: settings.concurrency,
      // The lease: a job's lock lasts leaseMs and is renewed while its worker lives. Once it has
      // expired, the next stalled-job check (every leaseMs, in any worker) puts the job back.
      lockDuration: settings.leaseMs,
      stalledInterval: settings.leaseMs,
      // A job whose worker dies every time (it crashes the process) is failed after as many stalls as it has attempts.
      maxStalledCount: settings.maxAttempts,
    },
  );
  worker.on('failed', (job, err) => console.error(`job ${job?.id} failed (attempt ${job?.attemptsMade}):`, err.message));
  worker.on('error', (err) => console.error('worker error', err.message));
  return {
    close: async () => {
      await worker.close();
      await connection.quit();
    },
  };
}
