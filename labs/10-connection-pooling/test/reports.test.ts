/**
 * The reports themselves, and the runaway report. An analyst's saved query that runs for minutes
 * holds its session all that time; every dashboard refresh starts another copy, and the pool is
 * soon full of them. statement_timeout makes Postgres itself cancel a statement that runs too long,
 * so the session is free again; giving up in the service alone (a Promise.race, pg's query_timeout)
 * leaves the query running in Postgres, on a session nobody can use.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { eventually, points, useLab, type Service } from '../../../harness/testing/index.js';
import { LIMITS, limitConnections, logged, report } from './api.js';

const STATEMENT_TIMEOUT_MS = 1_000;
/**
 * How long past statementTimeoutMs the answer may take: Postgres cancels at the time-out and the
 * answer follows at once; the slack covers a busy machine. Without a time-out the runaway takes
 * 20 s (the starter gives no answer within bound + 2 s every time).
 */
const SLACK_MS = 3_000;
const RUNAWAY_SQL = "SELECT pg_sleep(20) AS runaway, 'stands for a report that runs for minutes' AS note";
const lab = useLab({ instances: 0, settings: { ...LIMITS, statementTimeoutMs: STATEMENT_TIMEOUT_MS } });
let service: Service;

beforeAll(async () => {
  await lab.db.query(
    `INSERT INTO saved_reports (name, title, sql) VALUES
       ('runaway', 'A report that never ends', $1),
       ('slow-but-fine', 'A report that takes 0.3 s', 'SELECT pg_sleep(0.3)::text AS waited, count(*)::int AS orders FROM orders')`,
    [RUNAWAY_SQL],
  );
  await limitConnections(lab, LIMITS.connectionLimit);
  service = await lab.startService({ instances: LIMITS.instances });
});

/** The service's sessions still running the runaway report. */
async function runawaysInPostgres(): Promise<number> {
  const { rows } = await lab.db.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND state = 'active' AND query LIKE '%pg_sleep(20) AS runaway%' AND pid <> pg_backend_pid()
        AND usename = (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database())`,
  );
  return rows[0].n;
}

describe('reports', () => {
  test('when a saved report is asked for then either instance answers with its rows', points(1, { id: 'report' }), async () => {
    const sql = (await lab.db.query(`SELECT sql FROM saved_reports WHERE name = 'revenue-by-region'`)).rows[0].sql;
    const expected = (await lab.db.query(sql)).rows;
    for (const i of [0, 1]) {
      const res = await report(service, i, 'revenue-by-region');
      expect(res.status, `instance ${i + 1} answered ${res.status} ${res.text.slice(0, 200)}`).toBe(200);
      expect(res.body.rows, `instance ${i + 1} answered other rows than the report's query gives`).toEqual(expected);
    }
    const missing = await report(service, 0, 'no-such-report');
    expect(missing.status, `a report that does not exist answered ${missing.status}`).toBe(404);
  });

  test(
    'when a report runs past statementTimeoutMs then Postgres cancels it and the request fails fast, while a shorter report still succeeds',
    points(2, { id: 'statement-timeout', timeout: 60_000 }),
    async () => {
      try {
        const fine = await report(service, 1, 'slow-but-fine', 10_000);
        expect(
          fine.status,
          `a report that takes 0.3 s, well under statementTimeoutMs (${STATEMENT_TIMEOUT_MS} ms), answered ${fine.status} ${fine.text.slice(0, 200)}; ` +
            'the time-out must cut only what runs longer than the setting (statement_timeout is in milliseconds)',
        ).toBe(200);

        const bound = STATEMENT_TIMEOUT_MS + SLACK_MS;
        const res = await report(service, 0, 'runaway', bound + 2_000).catch((e: Error) => e);
        expect(
          res instanceof Error ? `no answer after ${(bound + 2_000) / 1000} s` : res.ms <= bound && [503, 504].includes(res.status),
          res instanceof Error
            ? `a report that runs for 20 s got no answer in ${(bound + 2_000) / 1000} s: nothing bounds how long a statement may run. ` +
                `Give every session statement_timeout = statementTimeoutMs (${STATEMENT_TIMEOUT_MS} ms), so that Postgres cancels it.`
            : `the runaway report answered ${res.status} after ${Math.round(res.ms)} ms; with statementTimeoutMs = ${STATEMENT_TIMEOUT_MS} it ` +
                `must be cut and answered 503 (or 504) within ${bound} ms.` +
                logged(service),
        ).toBe(true);

        // The session must be free again: Postgres itself stopped the statement.
        const cleared = await eventually(async () => (await runawaysInPostgres()) === 0, { timeoutMs: 1_000, everyMs: 100 });
        expect(
          cleared,
          `the API gave up on the runaway report, but Postgres is still running it (${await runawaysInPostgres()} session(s) busy with it): ` +
            'a time-out in the service (Promise.race, pg query_timeout) abandons the query without stopping it, and its session stays ' +
            'taken until the query ends by itself. statement_timeout makes Postgres cancel it and frees the session.',
        ).toBe(true);
      } finally {
        // Whatever happened, stop the 20 s sleeps this test started.
        await lab.db.query(
          `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND query LIKE '%pg_sleep(20) AS runaway%' AND pid <> pg_backend_pid()`,
        );
      }
    },
  );
});
