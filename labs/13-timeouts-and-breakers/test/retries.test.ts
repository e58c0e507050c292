/**
 * Retries: bounded (a failing call is tried 1 + retries times, never more), and spread (checkouts
 * that failed at the same moment do not all retry at the same moment). A file of its own: its
 * instances run with the breaker out of the way (breakerFailures 1000), so that every retry is seen.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { evidence, points, sleep, useLab, worstOf } from '../../../harness/testing/index.js';
import { checkout, degraded, ms, seen, tally } from './checkout.js';
import { InventoryStub } from './inventory-stub.js';

const lab = useLab({ instances: 0 });
let stub: InventoryStub;

beforeAll(async () => {
  stub = await InventoryStub.start();
});
afterAll(async () => {
  await stub?.close();
});

async function priced(skus: string[]): Promise<string[]> {
  await Promise.all(skus.map((sku) => lab.redis.set(`price:${sku}`, '1000')));
  return skus;
}

describe('retries', () => {
  test(
    'when inventory keeps failing then each checkout tries it at most 1 + retries times and answers degraded',
    points(2, { id: 'retries-bounded', timeout: 40_000 }),
    async () => {
      stub.fail();
      const RETRIES = 2;
      const settings = { inventoryUrl: stub.url, retries: RETRIES, retryBaseMs: 100, checkoutBudgetMs: 3_000, breakerFailures: 1_000 };
      const service = await lab.startService({ instances: 1, settings });
      try {
        const skus = await priced(Array.from({ length: 6 }, (_, i) => `bounded-${i}`));
        const outcomes = await Promise.all(skus.map((sku) => checkout(service.http(0), sku, { timeoutMs: 4_500 })));
        await sleep(1_500); // a retry loop that outlives its request shows up here
        const attempts = skus.map((sku) => stub.for(sku).length);
        evidence('most attempts for one checkout', Math.max(...attempts), { of: 1 + RETRIES });
        expect(
          Math.max(...attempts),
          `with inventory failing every call, 6 checkouts made ${attempts.join(', ')} attempts each (retries ${RETRIES}: at most ` +
            `${1 + RETRIES}). Unbounded retries turn one failing dependency into a storm: every waiting checkout adds load to ` +
            'the service that is already struggling, and the checkout never answers',
        ).toBeLessThanOrEqual(1 + RETRIES);
        expect(
          outcomes.filter((o) => !degraded(o)).length,
          `the 6 checkouts answered ${tally(outcomes)}: once retries are spent, answer a 503 or a 201 with stock "unconfirmed"`,
        ).toBe(0);
      } finally {
        await service.close();
      }
    },
  );

  test(
    'when 20 checkouts fail at the same moment then their retries are spread out by random jitter, not sent in one burst',
    points(3, { id: 'retry-jitter', timeout: 60_000 }),
    async () => {
      stub.heal();
      const BASE_MS = 2_000;
      const N = 20;
      const SPREAD_MS = 150;
      const MAX_TAU = 0.6;
      const settings = { inventoryUrl: stub.url, retries: 2, retryBaseMs: BASE_MS, checkoutBudgetMs: 8_000, breakerFailures: 1_000 };
      const service = await lab.startService({ instances: 1, settings });
      /** One burst: N checkouts whose first calls all fail at the same instant; the delay of each one's retry from that instant. */
      const burst = async (name: string) => {
        const skus = await priced(Array.from({ length: N }, (_, i) => `jitter-${name}-${i}`));
        const held = stub.failTogether(`jitter-${name}-`, N);
        // A short burst whose timing is the point: not piled onto another run's burst.
        const outcomes = await lab.exclusive(async () => {
          const running = Promise.all(skus.map((sku) => checkout(service.http(0), sku, { timeoutMs: 10_000 })));
          const until = performance.now() + 3_000;
          while (held.releasedAt === undefined && performance.now() < until) await sleep(20);
          held.release(); // in case fewer than N first attempts ever arrive
          return running;
        });
        const called = skus.filter((sku) => stub.for(sku).length > 0).length;
        expect(called, `only ${called} of ${N} checkouts called inventory`).toBe(N);
        const retried = skus.map((sku) => stub.for(sku)[1]?.at);
        const missing = retried.filter((at) => at === undefined).length;
        expect(
          missing,
          `inventory answered 500 to ${N} checkouts' first calls at the same moment; ${missing} of them never retried ` +
            `(they answered ${tally(outcomes)}). A failed call is retried, up to retries times, within the budget`,
        ).toBe(0);
        expect(
          outcomes.filter((o) => !(o.status === 201 && o.stock === 'confirmed')).map(seen),
          'every retry succeeded, so every checkout should be 201 with stock "confirmed"',
        ).toEqual([]);
        // Kendall's tau between the order the failures were sent in and the order the retries came
        // back in: about 1 when every checkout waits the same (a stall on a busy machine delays a
        // group but keeps its order), about 0 when each wait is random. The spread leaves out the
        // 2 earliest and 2 latest: one late straggler (a busy machine) is not a spread.
        return held.retries(skus, retried as number[]);
      };
      try {
        // Two bursts: a machine busy enough to stagger one burst's retries by chance rarely does it twice.
        const { narrowest, inOrder } = worstOf([await burst('a'), await burst('b')]);
        evidence('spread of retries after a shared failure', narrowest.spread, { unit: 'ms' });
        expect(
          narrowest.spread,
          `inventory failed ${N} checkouts at the same moment, twice. Their retries came ${narrowest.delays.map(ms).join(', ')} ` +
            `later (retryBaseMs ${BASE_MS}): the middle 16 within ${ms(narrowest.spread)} of each other. Without jitter, everything ` +
            'that failed together retries together, and a service that is recovering gets the whole load back in one burst. ' +
            'Make each wait random over at least half of it (full jitter: random() × base × 2^n; or base × 2^n × (1 + random())), ' +
            `so that the middle 16 spread over at least ${SPREAD_MS} ms`,
        ).toBeGreaterThanOrEqual(SPREAD_MS);
        expect(
          inOrder.tau,
          `inventory failed ${N} checkouts at the same moment, twice; their retries came back in the order the failures were sent ` +
            `(Kendall's tau ${inOrder.tau.toFixed(2)}; about 0 for random waits, 1 for equal ones), spread over ` +
            `${ms(inOrder.spread)} only by the machine's own delays. Equal waits keep a burst together; random jitter on each wait ` +
            'breaks it up',
        ).toBeLessThan(MAX_TAU);
      } finally {
        await service.close();
      }
    },
  );
});
