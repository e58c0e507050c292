import { z } from 'zod';

/** What the API and the workers are configured with (lab.json "settings"; the tests override some). */
export const Settings = z.object({
  /** Base URL of the mail provider's API (POST /messages). */
  mailerUrl: z.url(),
  /** How long one call to the mail provider may take before the attempt counts as failed. */
  mailerTimeoutMs: z.number().int().positive().default(10_000),
  /** Jobs one worker process runs at once. */
  concurrency: z.number().int().positive().default(4),
  /** How long a worker with nothing to do waits before it looks again. */
  pollMs: z.number().int().positive().default(50),
  /** How long a job a worker has taken stays reserved for that worker. */
  leaseMs: z.number().int().positive().default(30_000),
  /** Attempts a job gets; after the last one fails it is dead (status 'dead', last_error kept). */
  maxAttempts: z.number().int().positive().default(5),
  /** The first retry waits at least this long after a failure; each later retry at least twice the one before. */
  retryBaseMs: z.number().int().positive().default(1_000),
});
export type Settings = z.infer<typeof Settings>;
