/**
 * The jobs table as a queue: what the API enqueues and what workers take, finish and fail.
 *
 * Ops notes (INC-3107): customers got the same receipt two and three times; after Tuesday's deploy
 * 40 jobs sat in "running" for a day with no worker on them; one order whose email address bounces
 * made the provider's rate limiter cut the whole account off.
 */
import type pg from 'pg';
import type { Job, ReceiptPayload } from './receipts.js';
import type { Settings } from './settings.js';

export async function enqueue(pool: pg.Pool, kind: string, payload: ReceiptPayload): Promise<number> {
  const { rows } = await pool.query('INSERT INTO jobs (kind, payload) VALUES ($1, $2) RETURNING id', [kind, payload]);
  return Number(rows[0].id);
}

/** A job this worker now owns, or undefined when none is ready. */
export async function claim(pool: pg.Pool, _settings: Settings): Promise<Job | undefined> {
  // TODO: two workers can both read the same oldest job here before either marks it running, and
  // both run it.
  const { rows } = await pool.query(`SELECT id FROM jobs WHERE status = 'queued' AND run_at <= now() ORDER BY id LIMIT 1`);
  if (rows.length === 0) return undefined;
  // TODO: once a job is 'running', nothing ever takes it again: if the worker dies mid-job (a
  // deploy, the OOM killer), it stays running for ever.
  const { rows: taken } = await pool.query(
    `UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = now() WHERE id = $1
     RETURNING id, kind, payload, attempts`,
    [rows[0].id],
  );
  const r = taken[0];
  return r && { id: Number(r.id), kind: r.kind, payload: r.payload, attempts: r.attempts };
}

export async function complete(pool: pg.Pool, job: Job): Promise<void> {
  await pool.query(`UPDATE jobs SET status = 'done', finished_at = now() WHERE id = $1`, [job.id]);
}

export async function fail(pool: pg.Pool, job: Job, error: Error, _settings: Settings): Promise<void> {
  // TODO: a failed job goes straight back to the queue, to be taken again at once, for ever: a job
  // that can never succeed is retried in a hot loop. How long should it wait, and when should it stop?
  await pool.query(`UPDATE jobs SET status = 'queued', last_error = $2 WHERE id = $1`, [job.id, error.message]);
}
