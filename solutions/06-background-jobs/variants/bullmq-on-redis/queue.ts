/**
 * The queue is BullMQ on Redis: what the API enqueues and reads back, and the options every job
 * carries. BullMQ keeps each job in Redis and moves it between its lists (waiting, delayed, active,
 * completed, failed) with Lua scripts, so taking a job is one atomic step no other worker can
 * interleave with. A worker holds a lock on each job it runs (the lease), renewed while it runs; a
 * job whose lock expired with its worker is found stalled by another worker and run again.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ReceiptPayload } from './receipts.js';
import type { Settings } from './settings.js';

export const QUEUE = 'receipts';

/**
 * Retries are the job's own options, fixed when it is queued: maxAttempts attempts in all, the n-th
 * retry waiting retryBaseMs × 2^(n − 1) in the delayed set, where no worker holds it. No jitter:
 * BullMQ's jitter takes from the wait, and the lab's contract is "at least". Finished jobs are kept
 * (completed, and failed: the dead-letter state), so that GET /jobs/:id can tell what became of them.
 */
export function jobOptions(settings: Settings): JobsOptions {
  return {
    attempts: settings.maxAttempts,
    backoff: { type: 'exponential', delay: settings.retryBaseMs },
    removeOnComplete: false,
    removeOnFail: false,
  };
}

export function receiptsQueue(connection: Redis, settings: Settings): Queue {
  return new Queue(QUEUE, { connection, defaultJobOptions: jobOptions(settings) });
}

export async function enqueue(queue: Queue, kind: string, payload: ReceiptPayload): Promise<string> {
  const job = await queue.add(kind, payload);
  return job.id!;
}

/** BullMQ's states in the lab's words: waiting to run, or waiting for its retry, is queued; failed (every attempt) is dead. */
const STATUS: Record<string, string> = {
  waiting: 'queued',
  prioritized: 'queued',
  delayed: 'queued',
  'waiting-children': 'queued',
  active: 'running',
  completed: 'done',
  failed: 'dead',
};

export interface JobView {
  id: string;
  kind: string;
  status: string;
  attempts: number;
  lastError: string | null;
  runAt: string;
}

export async function describeJob(queue: Queue, id: string): Promise<JobView | undefined> {
  const job = await queue.getJob(id);
  if (!job) return undefined;
  const state = await job.getState();
  return {
    id: job.id!,
    kind: job.name,
    status: STATUS[state] ?? state,
    attempts: job.attemptsStarted,
    lastError: job.failedReason || null,
    runAt: new Date(job.timestamp + (job.delay ?? 0)).toISOString(),
  };
}
