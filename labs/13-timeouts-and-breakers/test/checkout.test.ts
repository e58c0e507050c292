/**
 * Checkout against a slow or failing inventory: the budget (timeouts), the circuit breaker (opens,
 * then half-opens and recovers), and the deadline passed on to inventory (bonus). Every test starts
 * instances of its own, so one test's open breaker never leaks into the next.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bonus, evidence, points, sleep, useLab, type Service } from '../../../harness/testing/index.js';
import { checkout, degraded, ms, seen, tally, type Outcome } from './checkout.js';
import { InventoryStub } from './inventory-stub.js';

const lab = useLab({ instances: 0 });
let stub: InventoryStub;
const BUDGET_MS = 800;

beforeAll(async () => {
  stub = await InventoryStub.start();
});
afterAll(async () => {
  await stub?.close();
});

async function price(sku: string, cents = 1_000): Promise<string> {
  await lab.redis.set(`price:${sku}`, String(cents));
  return sku;
}

/** Checkouts in a row on one instance; stops at the first that hangs (3 s), which the test then reports. */
async function inARow(service: Service, instance: number, skus: string[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const sku of skus) {
    out.push(await checkout(service.http(instance), await price(sku), { timeoutMs: 3_000 }));
    if (out.at(-1)!.status === 0) break;
  }
  return out;
}

describe('checkout against a slow or failing inventory', () => {
  test(
    `when inventory takes 5 s then every checkout answers within twice its ${BUDGET_MS} ms budget, degraded or 503, and a healthy one is confirmed`,
    points(3, { id: 'budget', timeout: 40_000 }),
    async () => {
      stub.heal();
      const service = await lab.startService({ instances: 2, settings: { inventoryUrl: stub.url, checkoutBudgetMs: BUDGET_MS } });
      try {
        // Healthy first, 5 at once on each instance: also what a running service has warm (its first
        // fetch() loads the HTTP client, its pool opens connections), so the slow round measures the budget.
        const okSkus = await Promise.all(Array.from({ length: 10 }, (_, i) => price(`budget-ok-${i}`, 1_250)));
        const healthy = await Promise.all(okSkus.map((sku, i) => checkout(service.http(i), sku, { qty: 2 })));
        const notConfirmed = healthy.filter((o) => !(o.status === 201 && o.stock === 'confirmed' && o.totalCents === 2_500));
        expect(
          notConfirmed.map((o) => `${seen(o)} (total ${o.totalCents})`),
          `with inventory healthy, checkouts of 2 × 12.50 answered ${tally(healthy)}: expected 201, stock "confirmed", ` +
            'totalCents 2500. Degrade only when inventory cannot answer in time',
        ).toEqual([]);
        const { rows } = await lab.db.query(`SELECT count(*)::int AS n FROM orders WHERE sku LIKE 'budget-ok-%' AND stock = 'confirmed'`);
        expect(rows[0].n, 'the 10 confirmed checkouts must leave 10 confirmed rows in orders').toBe(10);

        stub.slow(5_000);
        const skus = await Promise.all(Array.from({ length: 10 }, (_, i) => price(`budget-${i}`)));
        // Timing is the point of this round: not piled onto another run's burst.
        const outcomes = await lab.exclusive(() => Promise.all(skus.map((sku, i) => checkout(service.http(i), sku, { timeoutMs: 7_000 }))));
        const slowest = Math.max(...outcomes.map((o) => o.ms));
        evidence('slowest checkout while inventory took 5 s', slowest, { unit: 'ms' });
        const wrong = outcomes.filter((o) => !degraded(o));
        expect(
          wrong.length,
          `with inventory taking 5 s, 10 checkouts answered: ${tally(outcomes)}. Each must be a 503 (refused, try later) or a 201 ` +
            'with stock "unconfirmed" (taken, stock checked later): never "confirmed" stock nobody confirmed, never a 500, never a hang',
        ).toBe(0);
        expect(
          slowest,
          `the slowest of 10 checkouts took ${ms(slowest)} (all: ${outcomes.map((o) => ms(o.ms)).join(', ')}) with a budget of ` +
            `${BUDGET_MS} ms. Give the inventory call a time-out within the budget (AbortSignal.timeout) and answer when it fires: ` +
            'a caller without a deadline waits as long as its slowest dependency, and holds a socket and a request the whole time',
        ).toBeLessThanOrEqual(2 * BUDGET_MS);
        stub.heal();
      } finally {
        await service.close();
      }
    },
  );

  test(
    'when inventory keeps failing then the breaker opens after breakerFailures failures and inventory gets no more calls',
    points(3, { id: 'breaker-opens', timeout: 60_000 }),
    async () => {
      stub.fail();
      const FAILURES = 5;
      const RETRIES = 2;
      const settings = { inventoryUrl: stub.url, breakerFailures: FAILURES, breakerOpenMs: 60_000, retries: RETRIES, retryBaseMs: 50 };
      const service = await lab.startService({ instances: 2, settings });
      try {
        const start = performance.now();
        const first = await Promise.all(
          [0, 1].map((i) =>
            inARow(
              service,
              i,
              Array.from({ length: 12 }, (_, k) => `open-${i}-${k}`),
            ),
          ),
        );
        const hung = first.flat().some((o) => o.status === 0);
        await sleep(300); // a retry still in flight arrives before the second round starts counting
        const openedAt = performance.now();
        const second = hung
          ? [] // the first round already failed: no need to wait out more hangs
          : await Promise.all(
              [0, 1].map((i) =>
                inARow(
                  service,
                  i,
                  Array.from({ length: 8 }, (_, k) => `open-${i}-late-${k}`),
                ),
              ),
            );
        await sleep(300);
        const mine = (since: number, until = Infinity) => stub.callsSince(since).filter((c) => c.sku.startsWith('open-') && c.at < until);
        const before = mine(start, openedAt).length;
        const after = mine(openedAt).length;
        evidence('inventory calls after the breaker should be open', after, { of: 16 });
        const all = [...first.flat(), ...second.flat()];
        expect(
          all.filter((o) => !degraded(o)).length,
          `with inventory answering 500 to everything, ${all.length} checkouts answered: ${tally(all)}. Each must be a 503 or a 201 with stock ` +
            '"unconfirmed": a failing dependency must not turn into 500s or hangs',
        ).toBe(0);
        const bound = 2 * FAILURES * (1 + RETRIES) + 2;
        expect(
          before,
          `inventory got ${before} calls from 24 checkouts (12 per instance) while failing every one. With breakerFailures ${FAILURES} ` +
            `and ${RETRIES} retries, each instance's breaker opens after at most ${FAILURES} failed calls of up to ${1 + RETRIES} ` +
            `attempts: at most ${bound} calls from both. A time-out alone keeps sending every checkout to a service that is down`,
        ).toBeLessThanOrEqual(bound);
        expect(
          after,
          `after 12 failing checkouts per instance, 16 more checkouts still sent ${after} calls to inventory (breakerOpenMs is 60 s). ` +
            'An open breaker fails fast without calling: count consecutive failures, open at breakerFailures, and while open answer ' +
            'degraded (or 503) without touching the network',
        ).toBe(0);
        stub.heal();
      } finally {
        await service.close();
      }
    },
  );

  test(
    'when inventory recovers then the open breaker half-opens after breakerOpenMs, lets a trial through, and checkouts are confirmed again',
    points(3, { id: 'half-open', timeout: 60_000 }),
    async () => {
      stub.fail();
      const OPEN_MS = 2_500;
      const settings = { inventoryUrl: stub.url, breakerFailures: 3, breakerOpenMs: OPEN_MS, retries: 1, retryBaseMs: 50 };
      const service = await lab.startService({ instances: 2, settings });
      try {
        const failing = await Promise.all(
          [0, 1].map((i) =>
            inARow(
              service,
              i,
              Array.from({ length: 6 }, (_, k) => `half-${i}-${k}`),
            ),
          ),
        );
        expect(
          failing.flat().filter((o) => !degraded(o)).length,
          `with inventory failing, checkouts answered ${tally(failing.flat())}: each must be a 503 or a 201 with stock "unconfirmed"`,
        ).toBe(0);
        const probeFrom = performance.now();
        await Promise.all([0, 1].map((i) => inARow(service, i, [`half-${i}-probe-a`, `half-${i}-probe-b`])));
        const probed = stub.callsSince(probeFrom).filter((c) => c.sku.includes('-probe-')).length;
        expect(
          probed,
          `after 6 failing checkouts per instance (breakerFailures 3), 4 more checkouts still sent ${probed} calls to inventory: the ` +
            'breaker never opened (see the breaker-opens test), so there is nothing to half-open',
        ).toBe(0);

        stub.heal();
        const healedAt = performance.now();
        const confirmedAt: (number | undefined)[] = [undefined, undefined];
        const last: Outcome[] = [];
        let n = 0;
        while (confirmedAt.some((t) => t === undefined) && performance.now() - healedAt < OPEN_MS + 4_000) {
          await Promise.all(
            [0, 1].map(async (i) => {
              if (confirmedAt[i] !== undefined) return;
              const o = await checkout(service.http(i), await price(`half-${i}-after-${n}`), { timeoutMs: 4_000 });
              last[i] = o;
              if (o.status === 201 && o.stock === 'confirmed') confirmedAt[i] = performance.now() - healedAt;
            }),
          );
          n++;
          await sleep(100);
        }
        evidence('ms from inventory healed to checkouts confirmed', Math.max(...confirmedAt.map((t) => t ?? Infinity)), { unit: 'ms' });
        expect(
          confirmedAt.map((t) => t !== undefined),
          `inventory healed; ${(OPEN_MS + 4_000) / 1000} s later checkouts on instance ` +
            `${confirmedAt.flatMap((t, i) => (t === undefined ? [i + 1] : [])).join(' and ')} still answered ` +
            `${last.map(seen).join(' / ')}. After breakerOpenMs (${OPEN_MS} ms) an open breaker must half-open: let one trial call ` +
            'through, close on its success (checkouts confirmed again), reopen on its failure. A breaker that never half-opens ' +
            'turns a 10-second blip into an outage that lasts until the next deploy',
        ).toEqual([true, true]);
      } finally {
        await service.close();
      }
    },
  );

  test(
    'bonus: when the price read has used most of the budget then inventory is called with only what is left of it, and abandoned when that runs out',
    bonus(2, { id: 'deadline', timeout: 40_000 }),
    async () => {
      stub.slow(5_000);
      const budget = 2_000;
      const linkMs = 600;
      const fp = await lab.faultPoint('redis');
      const settings = { inventoryUrl: stub.url, checkoutBudgetMs: budget, redisTimeoutMs: 1_800, retries: 0 };
      const service = await lab.startService({ instances: 1, redisUrl: fp.url, settings });
      try {
        const sku = await price('deadline-1');
        await fp.latency(linkMs); // the price read now takes at least 1200 ms: 600 ms each way
        const o = await checkout(service.http(0), sku, { timeoutMs: 8_000 });
        await fp.heal();
        await sleep(200);
        const call = stub.for(sku)[0];
        expect(call, `the checkout answered ${seen(o)} after ${ms(o.ms)} but never called inventory`).toBeDefined();
        const left = budget - 2 * linkMs;
        const header = call!.timeoutHeader;
        evidence('budget passed on to inventory', header ?? NaN, { unit: 'ms' });
        expect(
          header !== undefined && Number.isFinite(header) && header > 0 && header <= left + 50,
          `inventory was called with x-request-timeout-ms ${call!.timeoutHeader ?? '(none)'}, after a price read that took at ` +
            `least ${2 * linkMs} ms of the ${budget} ms budget. Pass on the time that is left (at most ${left} ms): the callee ` +
            'can then stop working for a caller that has already given up',
        ).toBe(true);
        const held = (call!.abandonedAt ?? Infinity) - call!.at;
        expect(
          held,
          `the inventory call was ${call!.abandonedAt === undefined ? 'never abandoned' : `abandoned after ${ms(held)}`}, with ` +
            `${header} ms of the budget left when it started. Use the remaining budget as the call's time-out ` +
            '(AbortSignal.timeout(deadline - Date.now())), not a fixed per-call time-out on top of what was already spent',
        ).toBeLessThanOrEqual(header! + 700);
        stub.heal();
      } finally {
        await service.close();
      }
    },
  );
});
