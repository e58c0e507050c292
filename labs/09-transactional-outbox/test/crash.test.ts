/**
 * The orders service dies (SIGKILL: the OOM killer, a node lost) right after it committed an order,
 * while its Redis is unreachable: whatever it meant to publish was only in its memory, or in Redis's
 * client waiting for a connection. A second later its background process dies too. Then Redis comes
 * back and both are started again, as an orchestrator would.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { eventually, evidence, points, sleep, useLab } from '../../../harness/testing/index.js';
import { deploy, IN_STOCK, ordersWithShipments, placeOrder, seedProducts, waitForConvergence, boundMs, streamKey } from './outbox.js';

const lab = useLab({ instances: 0 });
/** Added to every chunk between the API and Postgres, both ways, once Redis is down. */
const PG_LATENCY_MS = 100;

beforeAll(() => seedProducts(lab));

describe('a crash right after a commit', () => {
  test(
    'when the orders instance is killed (SIGKILL) right after committing an order while Redis is down then the order is still shipped once Redis and the service are back',
    points(3, { id: 'crash-after-commit', timeout: 90_000 }),
    async () => {
      const fp = await lab.faultPoint('redis');
      // The API's Postgres link goes through a fault point too: slowed, it leaves time between the
      // COMMIT and whatever the API does after it (each round trip takes 2 × PG_LATENCY_MS).
      const pgLink = await lab.faultPoint('postgres');
      const first = await deploy(lab, { orders: 1, ordersWorkers: 1, shipping: 1, ordersRedisUrl: fp.url, ordersDatabaseUrl: pgLink.url });

      // Everything works before the fault: one order goes through.
      const warm = await placeOrder(first.orders, 0, 'warm-up');
      const warmView = await waitForConvergence(lab, 'warm-up', { maxMs: boundMs(lab), settleMs: 0 });
      expect(warmView.missing, `with nothing broken, order ${warm} never reached shipping within ${boundMs(lab) / 1000} s`).toEqual([]);

      fp.down();
      await pgLink.latency(PG_LATENCY_MS);
      const customer = 'crash';
      let answered = false;
      const pending = first.orders
        .http(0)
        .post('/orders', { customer, sku: IN_STOCK, quantity: 1 }, { timeoutMs: 20_000 })
        .catch((e: Error) => ({ status: 0, text: e.message }))
        .finally(() => (answered = true));
      const committedId = async () => (await ordersWithShipments(lab, customer))[0]?.id;
      await eventually(async () => answered || (await committedId()) !== undefined, { timeoutMs: 15_000, everyMs: 10 });
      const committed = await committedId();
      if (committed === undefined) {
        const res = await pending;
        expect.fail(
          `with Redis down the order was never committed (POST /orders answered ${res.status}: ${res.text.slice(0, 200)}). ` +
            `Taking an order needs Postgres only; refusing orders whenever Redis blips makes Redis part of every order.`,
        );
      }
      const killed = await first.orders.instances[0]!.kill('SIGKILL');
      expect(killed.signal, `the orders instance should have died of SIGKILL: ${JSON.stringify(killed)}`).toBe('SIGKILL');
      // Its background process keeps running a second longer without Redis, then dies too.
      await sleep(1_000);
      await first.ordersWorkers.instances[0]!.kill('SIGKILL');
      fp.heal();

      const second = await deploy(lab, { orders: 1, ordersWorkers: 1, shipping: 0, ordersRedisUrl: fp.url });
      const view = await waitForConvergence(lab, customer, { maxMs: boundMs(lab) });
      const shipments = view.orders[0]?.shipments ?? [];
      evidence('shipments for the order committed before the crash', shipments.length, { of: 1 });
      expect(
        shipments,
        `order ${committed} was committed, its instance was killed ${killed.ms} ms after that, and ${((view.ms + 0) / 1000).toFixed(1)} s ` +
          `after everything was back shipping holds ${shipments.length === 0 ? 'no shipment' : `shipments [${shipments.join(', ')}]`} for it. ` +
          `An event that lives only in a process's memory (a retry queue, a client's offline queue), or that is written ` +
          `after the COMMIT (a second transaction), dies with the process: commit it in the order's own transaction ` +
          `(an outbox row), and remove it only once XADD has succeeded.`,
      ).toEqual(['booked']);
      await second.orders.close();
    },
  );
});
