/**
 * Sending our own webhooks to a subscriber that is down: deliveryAttempts attempts in all, then
 * the delivery is kept as failed, listed, and sent again on replay once the subscriber is back.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually, points, sleep, useLab } from '../../../harness/testing/index.js';
import { is2xx, newCustomer, show, SUBSCRIBER_SECRET } from './provider.js';
import { ATTEMPTS, pay, startSending, timeline } from './sending.js';
import { SubscriberStub } from './subscriber-stub.js';

const lab = useLab({ instances: 0 });
let stub: SubscriberStub;

beforeAll(async () => {
  stub = await SubscriberStub.start(SUBSCRIBER_SECRET);
});
afterAll(async () => {
  await stub?.close();
});

describe('when the subscriber is down', () => {
  test(
    `when the subscriber keeps failing then the event is attempted ${ATTEMPTS} times in all, kept as failed, and delivered once replayed`,
    points(2, { id: 'retry-limit', timeout: 60_000 }),
    async () => {
      const BASE_MS = 150;
      const service = await startSending(lab, stub, BASE_MS);
      const customerId = newCustomer('down');
      stub.alwaysFail(customerId);
      await pay(service, customerId);
      await eventually(async () => stub.for(customerId).length >= ATTEMPTS, { timeoutMs: 15_000, everyMs: 100 });
      // A fifth attempt would come BASE_MS × 2^3 = 1.2 s (up to 1.8 s) after the fourth.
      await sleep(3_000);
      const attempts = stub.for(customerId);
      expect(
        attempts.length,
        `with deliveryAttempts ${ATTEMPTS}, a subscriber that never recovers saw ${attempts.length} attempts [${timeline(attempts)}]. ` +
          (attempts.length > ATTEMPTS
            ? 'Retries need a limit: without one a dead subscriber is retried for ever, and failed deliveries pile up'
            : 'A failed delivery must be retried until deliveryAttempts attempts have been made'),
      ).toBe(ATTEMPTS);
      const eventId = attempts[0]!.webhookId ?? attempts[0]!.eventId;
      const listed = await service.http(1).get('/deliveries?status=failed');
      const kept = (listed.body?.deliveries ?? []).find((d: { eventId?: string }) => d.eventId === eventId);
      expect(
        kept,
        `GET /deliveries?status=failed answered ${show(listed)}; it should list the delivery of ${eventId}: a delivery that used ` +
          'up its attempts is kept, so that it can be replayed once the subscriber is back',
      ).toBeDefined();

      stub.heal(customerId);
      const replay = await service.http(0).post(`/deliveries/${kept.id}/replay`);
      expect(is2xx(replay.status), `POST /deliveries/${kept.id}/replay answered ${show(replay)}`).toBe(true);
      await eventually(async () => stub.for(customerId).some((a) => a.status === 200), { timeoutMs: 10_000, everyMs: 100 });
      await sleep(1_000);
      const after = stub.for(customerId).slice(ATTEMPTS);
      expect(
        { accepted: after.filter((a) => a.status === 200).length, sameEvent: after.every((a) => (a.webhookId ?? a.eventId) === eventId) },
        `after the replay the subscriber saw [${timeline(after)}]; it should receive the kept event, once`,
      ).toEqual({ accepted: 1, sameEvent: true });
      await service.close();
    },
  );
});
