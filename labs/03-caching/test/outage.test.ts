/**
 * Graded tests for the caching lab: the catalog when Redis fails. Each test puts a fault point (a
 * TCP proxy the harness owns) between two fresh service instances and Redis, then takes Redis
 * away: refused and reset connections (down), or a Redis that accepts commands and never answers
 * (timeout, a blackhole). Postgres stays healthy throughout, so every read can still be answered.
 */
import { describe, expect, test } from 'vitest';
import { eventually, explainFound, overlap, points, sleep, useLab, type FaultPoint, type Service } from '../../../harness/testing/index.js';
import { catalogHelpers, pageSummary, type Seeded } from './catalog-helpers.js';

const lab = useLab({ instances: 0 });
const { seed, pageCalls, warm } = catalogHelpers(lab, 5_000);

/** The lab's SLO while Redis is failing: every read answers, from Postgres, within this. */
const OUTAGE_BOUND_MS = 3_000;
/** Past this, a read counts as hung. */
const HANG_MS = 8_000;

/** Two instances whose Redis traffic goes through a fresh fault point; stopped after fn. */
async function withFaultPoint(fn: (service: Service, fp: FaultPoint) => Promise<void>): Promise<void> {
  const fp = await lab.faultPoint('redis');
  const service = await lab.startService({ instances: 2, redisUrl: fp.url });
  try {
    await fn(service, fp);
  } finally {
    await service.close();
  }
}

async function warmThrough(service: Service, p: Seeded): Promise<void> {
  expect(
    await warm(service, p.id),
    `before the fault: product ${p.id} was never served from the cache through the fault point, so this test cannot ` +
      'tell a working cache from a broken one (the "served from the cache" test says more)',
  ).toBe(true);
}

/** Reads the products in turn on both instances; returns what went wrong, stopping at the first hang. */
async function readDuringOutage(service: Service, products: Seeded[], n: number): Promise<string[]> {
  const problems: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = products[i % products.length]!;
    const where = `read ${i + 1} of ${n} (instance ${(i % 2) + 1}, product ${p.id})`;
    try {
      const r = await service.http(i).get(`/products/${p.id}`, { timeoutMs: HANG_MS });
      if (r.status !== 200) problems.push(`${where}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      else if (pageSummary(r.body).priceCents !== p.priceCents) problems.push(`${where}: wrong page ${r.text.slice(0, 200)}`);
      else if (r.ms > OUTAGE_BOUND_MS)
        problems.push(`${where}: answered after ${Math.round(r.ms)} ms (the bound is ${OUTAGE_BOUND_MS} ms)`);
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
      break;
    }
  }
  return problems;
}

function outageReport(what: string, problems: string[], service: Service): string {
  const logged = explainFound(service.loggedConcepts());
  return (
    `with ${what}, the catalog must keep serving product pages from Postgres, each within ${OUTAGE_BOUND_MS} ms:\n  ` +
    problems.join('\n  ') +
    '\nA read that waits on Redis takes the whole API down with it. By default ioredis queues commands while it ' +
    'reconnects (for 20 reconnection attempts) and waits for ever on a server that does not answer. Make Redis calls ' +
    'fail fast (client options such as enableOfflineQueue, maxRetriesPerRequest, commandTimeout, connectTimeout) and ' +
    'fall back to Postgres when they fail.' +
    (logged ? `\nThe service logged:\n${logged}` : '')
  );
}

describe('when Redis fails', () => {
  test('when Redis is down then reads are served from Postgres within 3 s, without hanging', points(3, { id: 'redis-down' }), async () => {
    await withFaultPoint(async (service, fp) => {
      const [cached, cold] = await seed(2);
      await warmThrough(service, cached!);
      await fp.down();
      // The reads mostly wait (on a refused connection, or a command time-out): two runs' reads may
      // overlap, never a CPU-heavy burst of another run.
      const problems = await lab.exclusive(() => readDuringOutage(service, [cached!, cold!], 6), { slots: 2 });
      expect(problems, outageReport('Redis down (connections refused and reset)', problems, service)).toEqual([]);
    });
  });

  test(
    'when Redis stops answering then reads are served from Postgres within 3 s, without hanging',
    points(2, { id: 'redis-silent' }),
    async () => {
      await withFaultPoint(async (service, fp) => {
        const [cached, cold] = await seed(2);
        await warmThrough(service, cached!);
        await fp.timeout();
        const problems = await lab.exclusive(() => readDuringOutage(service, [cached!, cold!], 6), { slots: 2 });
        expect(problems, outageReport('a Redis that accepts connections and commands but never answers', problems, service)).toEqual([]);
      });
    },
  );

  test('when Redis comes back then caching resumes', points(2, { id: 'redis-back' }), async () => {
    await withFaultPoint(async (service, fp) => {
      const [old, fresh] = await seed(2);
      await warmThrough(service, old!);
      await fp.down();
      // Exercise the failure path while Redis is away; how those reads fare is judged by the tests above.
      await overlap(4, (i) => service.http(i).get(`/products/${old!.id}`, { timeoutMs: 5_000 }));
      await sleep(500);
      await fp.heal();

      const healedAt = Date.now();
      let lastRan = 0;
      const resumed = await eventually(
        async () => {
          const fill = await service.http(0).get(`/products/${fresh!.id}`);
          const before = await pageCalls();
          const reads = [await service.http(1).get(`/products/${fresh!.id}`), await service.http(0).get(`/products/${fresh!.id}`)];
          lastRan = (await pageCalls()) - before;
          return fill.status === 200 && reads.every((r) => r.status === 200) && lastRan === 0;
        },
        { timeoutMs: 20_000, everyMs: 250 },
      );
      expect(
        resumed,
        `${Math.round((Date.now() - healedAt) / 1000)} s after Redis came back, reads of product ${fresh!.id} still reach ` +
          `Postgres (${lastRan} of the last 2 reads ran the page query): the service never went back to the cache. Does the ` +
          'Redis client keep reconnecting (retryStrategy), and does the code try Redis again after a failure (a circuit ' +
          'breaker must close again)?',
      ).toBe(true);
    });
  });
});
