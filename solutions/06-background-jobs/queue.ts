/**
 * The jobs table as a queue: what the API enqueues and what workers take, finish and fail.
 *
 * A worker takes a job with one statement: it picks the first ready row that no other transaction
 * has locked (FOR UPDATE SKIP LOCKED) and marks it running under a lease, a random token valid until
 * now() + leaseMs. Two workers can never take the same row, and neither waits for the other. A job
 * whose lease ran out (its worker died mid-job) is ready again. Finishing or failing a job is
 * conditional on the lease, so a worker that outlived its lease cannot overwrite the next one's work.
 */
import type pg from 'pg';
import type { Job, ReceiptPayload } from './receipts.js';
import type { Settings } from './settings.js';

export async function enqueue(pool: pg.Pool, kind: string, payload: ReceiptPayload): Promise<number> {
  const { rows } = await pool.query('INSERT INTO jobs (kind, payload) VALUES ($1, $2) RETURNING id', [kind, payload]);
  return Number(rows[0].id);
}

/** A job this worker now owns, or undefined when none is ready. */
export async function claim(pool: pg.Pool, settings: Settings): Promise<Job | undefined> {
  for (;;) {
    const { rows } = await pool.query(
      `UPDATE jobs
          SET status = 'running', attempts = attempts + 1, started_at = now(),
              locked_until = now() + make_interval(secs => $1::float8 / 1000), lease = gen_random_uuid()
        WHERE id = (SELECT id FROM jobs
                     WHERE (status = 'queued' AND run_at <= now()) OR (status = 'running' AND locked_until < now())
                     ORDER BY run_at, id
                     FOR UPDATE SKIP LOCKED
                     LIMIT 1)
        RETURNING id, kind, payload, attempts, lease`,
      [settings.leaseMs],
    );
    const r = rows[0];
    if (!r) return undefined;
    const job: Job = { id: Number(r.id), kind: r.kind, payload: r.payload, attempts: r.attempts, lease: r.lease };
    if (job.attempts <= settings.maxAttempts) return job;
    // Its last attempt's worker died mid-job (the lease ran out): no attempts are left.
    await pool.query(
      `UPDATE jobs SET status = 'dead', finished_at = now(), locked_until = NULL,
              last_error = coalesce(last_error || '; ', '') || 'the worker running attempt ' || ($3::int - 1) || ' stopped before it finished'
        WHERE id = $1 AND lease = $2`,
      [job.id, job.lease, job.attempts],
    );
  }
}

export async function complete(pool: pg.Pool, job: Job): Promise<void> {
  await pool.query(`UPDATE jobs SET status = 'done', finished_at = now(), locked_until = NULL WHERE id = $1 AND lease = $2`, [
    job.id,
    job.lease,
  ]);
}

/**
 * A failed attempt: the job waits retryBaseMs × 2^(attempts − 1) before it is ready again (1×, 2×,
 * 4×, … the base), and after maxAttempts it is dead, its last error kept for whoever looks.
 */
export async function fail(pool: pg.Pool, job: Job, error: Error, settings: Settings): Promise<void> {
  await pool.query(
    `UPDATE jobs
        SET status = CASE WHEN attempts >= $3 THEN 'dead' ELSE 'queued' END,
            finished_at = CASE WHEN attempts >= $3 THEN now() END,
            run_at = now() + make_interval(secs => $4::float8 * 2 ^ (attempts - 1) / 1000),
            last_error = $2, locked_until = NULL
      WHERE id = $1 AND lease = $5`,
    [job.id, error.message, settings.maxAttempts, settings.retryBaseMs, job.lease],
  );
}
