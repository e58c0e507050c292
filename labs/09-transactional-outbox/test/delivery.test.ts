/**
 * Shipping's side of at-least-once delivery. Booking a shipment with the carrier takes a while
 * (bookingMs), so consumers are usually in the middle of an event. The tests kill them there, send
 * copies of events on purpose (what a relay does when it cannot know whether its XADD arrived), and
 * cancel orders right after placing them, with two consumers sharing the stream.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { bonus, eventually, evidence, overlap, points, sleep, useLab } from '../../../harness/testing/index.js';
import {
  deploy,
  groupName,
  placeOrder,
  readEntry,
  seedProducts,
  some,
  waitForConvergence,
  type Deployment,
  boundMs,
  streamKey,
} from './outbox.js';

const SETTINGS = { bookingMs: 300, claimIdleMs: 1_000 };
/** Orders in the ordering test, and how long after a consumer has taken its order.placed each one is cancelled. */
const ORDERS = 5;
const CANCEL_AFTER_MS = 20;
const lab = useLab({ instances: 0, settings: SETTINGS });

let d: Deployment;

beforeAll(async () => {
  await seedProducts(lab);
  d = await deploy(lab, { orders: 1, ordersWorkers: 2, shipping: 2 });
});

describe('events delivered more than once, and in which order', () => {
  test(
    'when both consumers are killed mid-event and the events of orders already shipped are delivered again then each of 12 orders is shipped exactly once',
    points(3, { id: 'redelivery', timeout: 90_000 }),
    async () => {
      const customer = 'redelivery';
      const placed = await overlap(12, async () => placeOrder(d.orders, 0, customer));
      const failed = placed.filter((p) => !p.ok);
      expect(failed.length, `placing 12 orders failed: ${failed.map((p) => (p.ok ? '' : p.error.message)).join('; ')}`).toBe(0);

      const shipped = async () => (await lab.db.query('SELECT DISTINCT order_id FROM shipments')).rows.map((r) => Number(r.order_id));
      const started = await eventually(async () => (await shipped()).length > 2, { timeoutMs: 15_000, everyMs: 10 });
      expect(started, `within 15 s shipping booked ${(await shipped()).length} of 12 orders; it should have been busy booking them`).toBe(
        true,
      );
      await Promise.all(d.shipping.instances.map((c) => c.kill('SIGKILL')));

      // The events of the orders already shipped, sent again with the same fields: what a relay does
      // when its XADD timed out after Redis had in fact taken it. (Only those: a copy of an event
      // the consumers lost would hide the loss.)
      const done = new Set(await shipped());
      const entries = (await lab.redis.xrange(streamKey(lab), '-', '+')) as Array<[string, string[]]>;
      const copies = entries.filter(([, fields]) => {
        const event = readEntry(fields);
        return event.type === 'order.placed' && done.has(Number(event.data?.orderId));
      });
      for (const [, fields] of copies) await lab.redis.xadd(streamKey(lab), '*', ...fields);

      d.shipping = await lab.startWorkers({ instances: 2, settings: { ...SETTINGS, service: 'shipping' } });
      const view = await waitForConvergence(lab, customer, { maxMs: boundMs(lab) + SETTINGS.claimIdleMs, settleMs: 1_500 });
      evidence('orders never shipped', view.missing.length, { of: view.orders.length });
      evidence('orders shipped twice', view.doubled.length, { of: view.orders.length });
      expect(
        view.missing.length,
        `shipping never booked ${some(view.missing)} of ${view.orders.length} orders. The consumers were killed when ${done.size} ` +
          `orders were booked, and whatever they had read but not applied is gone: an event acknowledged (XACK) before its ` +
          `effect is committed is lost when the consumer dies. Apply, commit, then XACK; a dead consumer's pending events are ` +
          `taken over (XAUTOCLAIM) after claimIdleMs.`,
      ).toBe(0);
      expect(
        view.doubled.length,
        `shipping booked ${some(view.doubled)} more than once (the order.placed events of the ${done.size} orders booked ` +
          `before the kill were delivered again on purpose, and the killed consumers' pending events once more). Delivery is at least once: make applying an event ` +
          `idempotent, keyed by something that is the same in every copy (an event id recorded in the same transaction as the ` +
          `shipment, or a unique constraint on what the event creates).`,
      ).toBe(0);
    },
  );

  test(
    'when 5 orders are each cancelled right after being placed then shipping ends with every one of them cancelled, never booked',
    bonus(2, { id: 'ordering', timeout: 60_000 }),
    async () => {
      const customer = 'ordering';
      // Each order is cancelled while a consumer is booking it: once its order.placed is pending in
      // shipping's group (read, not yet acknowledged), and the next order waits until nothing is.
      const pending = async () => Number(((await lab.redis.xpending(streamKey(lab), groupName(lab))) as [number])[0] ?? 0);
      for (let i = 0; i < ORDERS; i++) {
        await eventually(async () => (await pending()) === 0, { timeoutMs: 3_000, everyMs: 10 });
        const id = await placeOrder(d.orders, 0, customer);
        await eventually(async () => (await pending()) > 0, { timeoutMs: 2_000, everyMs: 5 });
        await sleep(CANCEL_AFTER_MS);
        const res = await d.orders.http(0).post(`/orders/${id}/cancel`);
        expect(res.status, `POST /orders/${id}/cancel answered ${res.status}: ${res.text}`).toBe(200);
      }
      const view = await waitForConvergence(lab, customer, { maxMs: boundMs(lab), settleMs: 500 });
      evidence('cancelled orders shipping still has booked', view.stillBooked.length, { of: ORDERS });
      expect(
        view.stillBooked.length,
        `${some(view.stillBooked)} of ${ORDERS} cancelled orders are still booked in shipping. Each was cancelled while a ` +
          `consumer was booking it (${SETTINGS.bookingMs} ms); the other consumer applied order.cancelled to a shipment ` +
          `that did not exist yet, and the booking landed afterwards. Events of one order must take effect in the order ` +
          `they happened: carry the order's version in each event and never let an older one overwrite a newer one (or ` +
          `keep one order's events on one consumer).`,
      ).toBe(0);
      expect(view.doubled.length, `shipping holds more than one shipment for ${some(view.doubled)}`).toBe(0);
    },
  );
});
