/**
 * Orders flowing from the orders service to shipping under steady traffic: first with nothing
 * broken (how soon shipping catches up), then with the orders service's Redis cut for a second in
 * the middle of 200 orders, a fifth of them for a product that is sold out (their transactions roll
 * back at COMMIT).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { evidence, points, steadyTraffic, useLab, type FaultPoint } from '../../../harness/testing/index.js';
import {
  deploy,
  IN_STOCK,
  orphanShipments,
  seedProducts,
  SOLD_OUT,
  some,
  waitForConvergence,
  type Deployment,
  boundMs,
  streamKey,
} from './outbox.js';

const lab = useLab({ instances: 0 });

let fp: FaultPoint & { url: string };
let d: Deployment;

beforeAll(async () => {
  await seedProducts(lab);
  fp = await lab.faultPoint('redis');
  d = await deploy(lab, { orders: 2, ordersWorkers: 2, shipping: 2, ordersRedisUrl: fp.url });
});

describe('orders reaching shipping', () => {
  test(
    'when 100 orders arrive at 50/s then shipping has booked every one of them within the stated bound after the load stops',
    points(2, { id: 'converges', timeout: 60_000 }),
    async () => {
      const customer = 'steady';
      const load = steadyTraffic([d.orders.http(0), d.orders.http(1)], {
        rate: 50,
        durationMs: 2_000,
        request: () => ({ method: 'POST', path: '/orders', body: { customer, sku: IN_STOCK, quantity: 1 } }),
      });
      const report = await load.done;
      expect(report.failures().length, `the orders API failed orders with nothing broken: ${report.summary()}`).toBe(0);
      const view = await waitForConvergence(lab, customer, { maxMs: boundMs(lab) });
      evidence('ms for shipping to catch up after load stopped', Math.round(view.ms), { unit: 'ms' });
      expect(
        view.missing.length + view.doubled.length,
        `${(view.ms / 1000).toFixed(1)} s after the last of ${view.orders.length} committed orders, shipping still had no shipment for ` +
          `${some(view.missing)} and more than one for ${some(view.doubled)}. Every committed order must reach shipping exactly once ` +
          `in effect; nothing was broken in this test.`,
      ).toBe(0);
      expect(
        view.ms,
        `shipping caught up ${(view.ms / 1000).toFixed(1)} s after the load stopped; the promise is ${boundMs(lab) / 1000} s ` +
          `(convergenceBoundMs). Eventual consistency is only acceptable with a bound: whatever carries the events across ` +
          `(a relay's poll interval, a consumer's block time) must fit well inside it.`,
      ).toBeLessThanOrEqual(boundMs(lab));
    },
  );

  test(
    'when Redis is cut for a second during 200 orders then after it heals every committed order is shipped once, and no rolled-back order is shipped',
    points(4, { id: 'redis-outage', timeout: 60_000 }),
    async () => {
      const customer = 'outage';
      const soldOut = (i: number) => i % 5 === 2;
      const cut = setTimeout(() => fp.down(), 500);
      const heal = setTimeout(() => fp.heal(), 1_500);
      const load = steadyTraffic([d.orders.http(0), d.orders.http(1)], {
        rate: 100,
        durationMs: 2_000,
        request: (i) => ({ method: 'POST', path: '/orders', body: { customer, sku: soldOut(i) ? SOLD_OUT : IN_STOCK, quantity: 1 } }),
      });
      const report = await load.done;
      clearTimeout(cut);
      clearTimeout(heal);
      fp.heal();
      const outcomes = report.outcomes;
      const duringCut = outcomes.filter((o) => o.sentMs >= 500 && o.sentMs < 1_500).length;
      const refused = outcomes.filter((o) => !soldOut(o.i) && o.status !== 201);
      const soldOutAnswers = outcomes.filter((o) => soldOut(o.i));
      const view = await waitForConvergence(lab, customer, { maxMs: boundMs(lab) });
      const orphans = await orphanShipments(lab);
      evidence('committed orders never shipped', view.missing.length, { of: view.orders.length });
      evidence('shipments for rolled-back orders', orphans.length, { of: soldOutAnswers.length });
      evidence('orders shipped twice', view.doubled.length, { of: view.orders.length });

      expect(
        orphans.length,
        `shipping booked ${some(orphans)} that do not exist: their transactions rolled back (out of stock, 409) after the event ` +
          `had gone out. An event published before COMMIT announces something that may never happen; publish only what ` +
          `committed, and make the event part of the same transaction (an outbox row).`,
      ).toBe(0);
      expect(
        refused.length,
        `${refused.length} of ${outcomes.length - soldOutAnswers.length} orders for a product in stock were not taken ` +
          `(${report.summary((o) => soldOut(o.i) || o.status === 201)}), ${duringCut} of them sent while Redis was cut. ` +
          `Taking an order needs Postgres only: what goes to Redis can follow once it is back.`,
      ).toBe(0);
      expect(
        soldOutAnswers.filter((o) => o.status !== 409).length,
        `orders for a sold-out product must be refused with 409: ${report.summary((o) => !soldOut(o.i) || o.status === 409)}`,
      ).toBe(0);
      expect(
        view.missing.length,
        `${(view.ms / 1000).toFixed(1)} s after the load stopped (Redis healed before that), shipping never heard of ` +
          `${some(view.missing)} of the ${view.orders.length} committed orders: each was committed, then its XADD failed while ` +
          `Redis was cut, and nothing tried again. Commit the event with the order (an outbox table in the same transaction) and ` +
          `let a relay publish it until Redis takes it.`,
      ).toBe(0);
      expect(
        view.doubled.length,
        `shipping booked ${some(view.doubled)} more than once: a relay retrying after a failure delivers some events twice, and ` +
          `the consumer must apply each event once (record the event id in the same transaction as its effect).`,
      ).toBe(0);
    },
  );
});
