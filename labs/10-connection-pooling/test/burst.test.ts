/**
 * A burst of 200 reports at once, across both instances, on a database that lets the service have
 * 20 sessions, 4 of them kept for people and tools. A pool per instance sized to its share (8)
 * serves them all, a few at a time; a session per request, or pools whose sizes add up to more
 * than the share, make Postgres refuse logins (53300) or take the sessions meant for others.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { overlap, points, useLab, type HttpResponse, type Service, type Settled } from '../../../harness/testing/index.js';
import { budget, LIMITS, limitConnections, logged, report, SessionSampler, tally } from './api.js';

const BURST = 200;
/**
 * The dashboard's report takes about 50 ms, as the real one does: long enough that sessions opened
 * per request overlap (a 2 ms report lets even a session per request slip under the sampler), short
 * enough that 16 sessions serve the burst in under a second. The acquire time-out is generous: this
 * file is about the burst, not about refusing.
 */
const REPORT_SQL = `WITH pause AS (SELECT pg_sleep(0.05))
  SELECT c.region, count(*)::int AS orders FROM pause, orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.region ORDER BY c.region`;
const lab = useLab({ instances: 0, settings: { ...LIMITS, acquireTimeoutMs: 10_000 } });
let service: Service;

beforeAll(async () => {
  await lab.db.query(`INSERT INTO saved_reports (name, title, sql) VALUES ('dashboard', 'Orders per region, for the wall screens', $1)`, [
    REPORT_SQL,
  ]);
  await limitConnections(lab, LIMITS.connectionLimit);
  service = await lab.startService({ instances: LIMITS.instances });
});

/** 200 reports at once, half on each instance, while a sampler watches the service's sessions. */
async function burst(): Promise<{ results: Settled<HttpResponse>[]; peak: number; samples: number }> {
  // Exclusive: another tree's burst on the same Postgres at the same moment would slow both down.
  return lab.exclusive(async () => {
    const sampler = await SessionSampler.start(lab);
    const results = await overlap(BURST, (i) => report(service, i, 'dashboard', 30_000));
    return { results, ...(await sampler.stop()) };
  });
}

const share = `connectionLimit ${LIMITS.connectionLimit} − reservedConnections ${LIMITS.reservedConnections} = ${budget(LIMITS)} for ${LIMITS.instances} instances`;

describe('a burst of reports', () => {
  test(
    `when ${BURST} reports are asked for at once across both instances then every one is answered 200`,
    points(3, { id: 'burst' }),
    async () => {
      const { results, peak } = await burst();
      const failed = results.filter((r) => !r.ok || r.value.status !== 200).length;
      expect(
        failed,
        `${tally('reports', results, (s) => s === 200)}. Postgres saw up to ${peak} sessions of the service at once (its share: ${share}). ` +
          'A burst is no reason to fail: a pool of a fixed size per instance lends its sessions to the requests in turn, ' +
          'and the others wait their turn (up to acquireTimeoutMs), instead of each request opening a session of its own ' +
          'until Postgres refuses the next login with "too many connections" (53300).' +
          logged(service),
      ).toBe(0);
    },
  );

  test(
    `when ${BURST} reports are asked for at once then Postgres never holds more sessions of the service than its share of the limit`,
    points(3, { id: 'within-limit', timeout: 60_000 }),
    async () => {
      const { results, peak, samples } = await burst();
      const answered = results.filter((r) => r.ok && r.value.status === 200).length;
      expect(samples, 'the sampler took no sample of pg_stat_activity during the burst: nothing was judged').toBeGreaterThan(0);
      expect(
        answered,
        `${tally('reports', results, (s) => s === 200)}, so the burst never reached Postgres and the session count judges nothing`,
      ).toBeGreaterThan(0);
      expect(
        peak,
        `during a burst of ${BURST} reports Postgres held up to ${peak} sessions of the service at once; its share is ${budget(LIMITS)} ` +
          `(${share}), so that a DBA, a migration and the monitoring can still log in. Every instance's pool must stay within ` +
          `its part of the share (max = ${budget(LIMITS) / LIMITS.instances} here); pg.Pool's default max of 10 on two instances ` +
          `is 20, and retrying refused logins (53300) only hides that the pools ask for more than there is.` +
          logged(service),
      ).toBeLessThanOrEqual(budget(LIMITS));
    },
  );
});
