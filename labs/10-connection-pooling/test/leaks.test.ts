/**
 * Failures must give their session back. A saved report with a bug (a division by zero that only
 * shows once Postgres has read the rows) fails mid-query, 100 times, on both instances. Then
 * ordinary reports must still be served: a client that is released only on success, or a
 * connection ended only after the query succeeded, is gone for good after every failure.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { overlap, points, useLab, type Service } from '../../../harness/testing/index.js';
import { budget, describeSessions, LIMITS, limitConnections, logged, report, serviceSessions, tally } from './api.js';

const FAILURES = 100;
const ACQUIRE_TIMEOUT_MS = 2_000;
const lab = useLab({ instances: 0, settings: { ...LIMITS, acquireTimeoutMs: ACQUIRE_TIMEOUT_MS } });
let service: Service;

beforeAll(async () => {
  await lab.db.query(
    `INSERT INTO saved_reports (name, title, sql) VALUES ('average-refund-share', 'Refunds per paid order, per region',
       'SELECT c.region, sum(o.amount_cents) / (count(*) - count(o.id)) AS broken
          FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.region')`,
  );
  await limitConnections(lab, LIMITS.connectionLimit);
  service = await lab.startService({ instances: LIMITS.instances });
});

describe('failed queries', () => {
  test(
    `when ${FAILURES} reports fail mid-query then every session goes back to the pool and the service still serves`,
    points(3, { id: 'error-releases', timeout: 90_000 }),
    async () => {
      const failing = await overlap(FAILURES, (i) => report(service, i, 'average-refund-share', 20_000));
      const answeredError = failing.filter((r) => r.ok && r.value.status >= 400).length;
      expect(
        answeredError,
        `a report whose query fails in Postgres (division by zero) must be answered with an error: ${tally('failing reports', failing, (s) => s >= 400)}`,
      ).toBe(FAILURES);

      const after = await overlap(20, (i) => report(service, i, 'revenue-by-region', 20_000));
      const sessions = await serviceSessions(lab.db);
      const ok = after.filter((r) => r.ok && r.value.status === 200).length;
      expect(
        ok,
        `after ${FAILURES} reports failed mid-query, ${tally('ordinary reports', after, (s) => s === 200)}. Postgres now holds ` +
          `${describeSessions(sessions)} sessions of the service (its share: ${budget(LIMITS)}). A session borrowed for a query ` +
          'that failed was never given back: release the client (or end the connection) in a finally block, so that it ' +
          'returns whether the query succeeded or threw; pool.query() does that for you.' +
          logged(service),
      ).toBe(20);
      expect(
        sessions.total,
        `after the failures the service holds ${describeSessions(sessions)} sessions, more than its share of ${budget(LIMITS)}`,
      ).toBeLessThanOrEqual(budget(LIMITS));
      expect(
        sessions.in_transaction,
        `${sessions.in_transaction} sessions of the service are left idle inside a transaction: a failed query's transaction was never rolled back`,
      ).toBe(0);
    },
  );
});
