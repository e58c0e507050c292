import type pg from 'pg';

export interface ReportResult {
  report: string;
  title: string;
  rows: Record<string, unknown>[];
  /** How long the report's own query took. */
  ms: number;
}

/** Something that runs SQL: a pg.Client, a client checked out of a pg.Pool, or a pg.Pool itself. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/** The saved reports, by name and title. */
export async function listReports(db: Queryable): Promise<{ name: string; title: string }[]> {
  const { rows } = await db.query<{ name: string; title: string }>('SELECT name, title FROM saved_reports ORDER BY name');
  return rows;
}

/**
 * Runs a saved report: looks its SQL up, then runs it as it is stored. Returns undefined when no
 * report has that name. The analytics team writes these queries; some are slow, and now and then
 * one fails (a division by zero on an empty month, a column renamed under it).
 */
export async function runReport(db: Queryable, name: string): Promise<ReportResult | undefined> {
  const saved = await db.query<{ title: string; sql: string }>('SELECT title, sql FROM saved_reports WHERE name = $1', [name]);
  const report = saved.rows[0];
  if (!report) return undefined;
  const started = performance.now();
  const result = await db.query(report.sql);
  return { report: name, title: report.title, rows: result.rows, ms: Math.round(performance.now() - started) };
}
