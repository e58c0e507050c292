/**
 * The worker process: `settings.concurrency` loops, each taking the next ready job from the queue,
 * running it, and recording the outcome. Started as processes of their own, apart from the API.
 */
import pg from 'pg';
import { claim, complete, fail } from './queue.js';
import { sendReceipt, type Job } from './receipts.js';
import { Settings } from './settings.js';

export interface WorkerConfig {
  databaseUrl: string;
  settings?: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function run(job: Job, settings: Settings): Promise<void> {
  if (job.kind === 'send-receipt') return sendReceipt(job, settings);
  throw new Error(`no handler for jobs of kind ${job.kind}`);
}

/** Starts the loops; close() stops taking jobs, lets the running ones finish, and closes the pool. */
export function createWorker(config: WorkerConfig) {
  const settings = Settings.parse(config.settings ?? {});
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: settings.concurrency + 2 });
  pool.on('error', (err) => console.error('idle pg client error', err));
  let stopping = false;

  async function loop(): Promise<void> {
    while (!stopping) {
      let job: Job | undefined;
      try {
        job = await claim(pool, settings);
      } catch (err) {
        console.error('claiming a job failed', err);
      }
      if (!job) {
        await sleep(settings.pollMs);
        continue;
      }
      try {
        await run(job, settings);
        await complete(pool, job);
      } catch (err) {
        console.error(`job ${job.id} failed (attempt ${job.attempts}):`, (err as Error).message);
        await fail(pool, job, err as Error, settings).catch((e) => console.error('recording the failure failed', e));
      }
    }
  }

  const loops = Array.from({ length: settings.concurrency }, () => loop());
  return {
    close: async () => {
      stopping = true;
      await Promise.all(loops);
      await pool.end();
    },
  };
}
