/**
 * Bonus: the pool's size is derived from the settings, not written down once. The same tree runs
 * twice with other numbers: three instances sharing 14 sessions with 2 reserved (4 each), then two
 * instances sharing 40 with 4 reserved (18 each). Each time a burst of reports that take 0.2 s
 * keeps every pool busy, so each pool grows to its full size: the sum must stay within the share,
 * and come close to it (no constant fits both).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { bonus, overlap, useLab } from '../../../harness/testing/index.js';
import { budget, limitConnections, logged, report, SessionSampler, tally } from './api.js';

const lab = useLab({ instances: 0 });

beforeAll(async () => {
  await lab.db.query(
    `INSERT INTO saved_reports (name, title, sql) VALUES ('slow-summary', 'Orders, counted slowly', 'SELECT pg_sleep(0.2)::text AS waited, count(*)::int AS orders FROM orders')`,
  );
});

const CASES = [
  { connectionLimit: 14, reservedConnections: 2, instances: 3, requestsPerInstance: 24 },
  { connectionLimit: 40, reservedConnections: 4, instances: 2, requestsPerInstance: 40 },
];

describe('pool size', () => {
  test(
    'bonus: when the connection limit or the number of instances changes then each pool takes its share of the limit, no more and not much less',
    bonus(2, { id: 'derived-pool-size', timeout: 120_000 }),
    async () => {
      for (const c of CASES) {
        const { requestsPerInstance, ...settings } = c;
        const share = budget(c);
        const perInstance = Math.floor(share / c.instances);
        const what =
          `with connectionLimit ${c.connectionLimit}, reservedConnections ${c.reservedConnections} and ${c.instances} instances ` +
          `(a share of ${share}, ${perInstance} per instance)`;
        await limitConnections(lab, c.connectionLimit);
        const service = await lab.startService({ instances: c.instances, settings: { ...settings, acquireTimeoutMs: 10_000 } });
        try {
          const { results, peak } = await lab.exclusive(async () => {
            const sampler = await SessionSampler.start(lab);
            const results = await overlap(requestsPerInstance * c.instances, (i) => report(service, i, 'slow-summary', 30_000));
            return { results, ...(await sampler.stop()) };
          });
          expect(
            results.filter((r) => !r.ok || r.value.status !== 200).length,
            `${what}: ${tally('reports', results, (s) => s === 200)}; Postgres saw up to ${peak} sessions of the service.` +
              logged(service),
          ).toBe(0);
          expect(
            peak,
            `${what}, Postgres saw up to ${peak} sessions of the service: more than its share. Derive each pool's max from the ` +
              'settings: floor((connectionLimit − reservedConnections) / instances).',
          ).toBeLessThanOrEqual(share);
          // Each pool reaches its max within the burst (0.2 s reports, several per session); allow one short per instance.
          expect(
            peak,
            `${what}, ${requestsPerInstance} slow reports per instance never made Postgres hold more than ${peak} sessions of ` +
              `the service: the pools stay far below the share they may use. Derive each pool's max from the settings: ` +
              'floor((connectionLimit − reservedConnections) / instances).',
          ).toBeGreaterThanOrEqual(share - c.instances);
        } finally {
          await service.close();
          await lab.stats.settle(service);
        }
      }
    },
  );
});
