/**
 * Sending our own webhooks. Each credited payment becomes a balance.credited webhook to our
 * subscriber (a stub these tests run). Deliveries are signed and retried with exponential backoff
 * and jitter: deliveries that failed together do not all retry together. (The retry limit and replay are in replay.test.ts: a file, and so a database, of its
 * own, because its instances retry on another schedule and would take these deliveries too.)
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { evidence, eventually, points, sleep, useLab, worstOf } from '../../../harness/testing/index.js';
import { deliver, is2xx, newCustomer, paymentEvent, show, signed, SUBSCRIBER_SECRET } from './provider.js';
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

describe('sending webhooks', () => {
  test(
    'when the subscriber fails 3 times and then recovers then it receives the event exactly once, signed, with growing waits between attempts',
    points(3, { id: 'retry-backoff', timeout: 60_000 }),
    async () => {
      const BASE_MS = 500;
      const service = await startSending(lab, stub, BASE_MS);
      /** One payment whose webhook fails 3 times; checks everything but the growth, and returns the waits between attempts. */
      const scenario = async (): Promise<number[]> => {
        const customerId = newCustomer('flaky');
        stub.failFirst(customerId, 3);
        await pay(service, customerId);
        await eventually(async () => stub.for(customerId).some((a) => a.status === 200), { timeoutMs: 20_000, everyMs: 100 });
        await sleep(2_500); // anything sent after the success would be a duplicate
        const attempts = stub.for(customerId);
        const accepted = attempts.filter((a) => a.status === 200).length;
        expect(
          { attempts: attempts.length, accepted },
          `the subscriber answered 500 three times and then 200; it saw ${attempts.length} attempts [${timeline(attempts)}], ${accepted} of them ` +
            'accepted. Expected 4 attempts and exactly one accepted: retry a failed delivery (a fire-and-forget POST loses the event ' +
            'at the first 500), and stop at the first 2xx',
        ).toEqual({ attempts: 4, accepted: 1 });
        const ids = new Set(attempts.map((a) => a.webhookId ?? a.eventId));
        expect(
          ids.size,
          `the retries carried ${ids.size} different event ids: every attempt is the same event, with the same Webhook-Id`,
        ).toBe(1);
        expect(
          attempts.filter((a) => !a.signatureValid).length,
          'some attempts had no valid signature: sign every delivery (HMAC-SHA256 of `${Webhook-Timestamp}.${body}` with subscriberSecret)',
        ).toBe(0);
        const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i]!.at);
        expect(
          gaps.every((g, i) => g >= BASE_MS * 2 ** i - 50),
          `the waits between attempts were ${gaps.map((g) => `${Math.round(g)} ms`).join(', ')} with retryBaseMs ${BASE_MS}. Retry n must ` +
            `wait at least retryBaseMs × 2^(n−1) (${gaps.map((_, i) => BASE_MS * 2 ** i).join(', ')} ms), plus jitter of up to half that: ` +
            'retries that come at once hammer a subscriber that is struggling to recover',
        ).toBe(true);
        return gaps;
      };
      // A stall of the whole machine can stretch one wait past the next; a second run tells that from a fixed pace.
      const grows = (g: number[]) => g[1]! > g[0]! && g[2]! > g[1]!;
      const first = await scenario();
      const second = grows(first) ? first : await scenario();
      expect(
        grows(second),
        `the waits between attempts were ${first.map((g) => `${Math.round(g)} ms`).join(', ')}, and in a second run ` +
          `${second.map((g) => `${Math.round(g)} ms`).join(', ')}: each wait must be longer than the one before (exponential backoff, ` +
          'retryBaseMs × 2^(n−1) plus up to half that in jitter). Retries at a fixed pace keep hammering a subscriber that is struggling to recover',
      ).toBe(true);
      await service.close();
    },
  );
  test(
    'when 20 deliveries fail at the same moment then their retries are spread out by random jitter, not sent in one burst',
    points(2, { id: 'retry-jitter', timeout: 180_000 }),
    async () => {
      const BASE_MS = 2_000;
      const N = 20;
      const SPREAD_MS = 150;
      const MAX_TAU = 0.6;
      const RETRY_WITHIN_MS = BASE_MS * 1.5 + 8_000;
      // The first attempts are held until this test's turn to time a burst: no attempt may time out meanwhile.
      const service = await startSending(lab, stub, BASE_MS, { deliveryTimeoutMs: 150_000 });
      const ms = (n: number) => `${Math.round(n)} ms`;
      /** One burst: N deliveries whose first attempts all fail at the same instant; when each one's retry came. */
      const burst = async (name: string) => {
        const customers = Array.from({ length: N }, () => newCustomer(`jitter-${name}`));
        const held = stub.failTogether(customers, { releaseWhenAll: false });
        const paid = await Promise.all(
          customers.map((c, i) => deliver(service, i % 2, signed(JSON.stringify(paymentEvent(c, 1_000 + i))))),
        );
        expect(paid.filter((r) => !is2xx(r.status)).map(show), `the provider's deliveries of ${N} payments should all be accepted`).toEqual(
          [],
        );
        await eventually(async () => held.order.length === N, { timeoutMs: 5_000, everyMs: 20 });
        // The timing is the point from the failures on: not piled onto another run's burst (retries mostly wait: a few may overlap).
        await lab.exclusive(
          async () => {
            held.release();
            await eventually(async () => customers.every((c) => stub.for(c).length >= 2), {
              timeoutMs: RETRY_WITHIN_MS,
              everyMs: 50,
            });
          },
          { slots: 3 },
        );
        const firsts = customers.filter((c) => stub.for(c).length > 0).length;
        expect(firsts, `only ${firsts} of ${N} credited payments were sent to the subscriber`).toBe(N);
        const retried = customers.map((c) => stub.for(c)[1]?.at);
        const missing = retried.filter((at) => at === undefined).length;
        expect(
          missing,
          `the subscriber answered 500 to ${N} deliveries at the same moment; ${missing} of them were not retried within ` +
            `${ms(RETRY_WITHIN_MS)} (retryBaseMs ${BASE_MS}). A failed delivery is retried, up to deliveryAttempts attempts`,
        ).toBe(0);
        return held.retries(customers, retried as number[]);
      };
      // Two bursts: both must be spread out, and neither in order.
      const { narrowest, inOrder } = worstOf([await burst('a'), await burst('b')]);
      evidence('spread of retries after a shared failure', narrowest.spread, { unit: 'ms' });
      expect(
        narrowest.spread,
        `the subscriber failed ${N} deliveries at the same moment, twice. Their retries came ${narrowest.delays.map(ms).join(', ')} ` +
          `later (retryBaseMs ${BASE_MS}): the middle 16 within ${ms(narrowest.spread)} of each other. Without jitter, everything ` +
          'that failed together retries together, and a subscriber that is recovering gets the whole backlog back in one burst. ' +
          `Add a random part to each wait (retryBaseMs × 2^(n−1) × (1 + random() × 0.5)), so that the middle 16 spread over at least ${SPREAD_MS} ms`,
      ).toBeGreaterThanOrEqual(SPREAD_MS);
      expect(
        inOrder.tau,
        `the subscriber failed ${N} deliveries at the same moment, twice; their retries came back in the order the failures were sent ` +
          `(Kendall's tau ${inOrder.tau.toFixed(2)}; about 0 for random waits, 1 for equal ones), spread over ${ms(inOrder.spread)} ` +
          "only by the machine's own delays. Equal waits keep a burst together; a random part in each wait breaks it up",
      ).toBeLessThan(MAX_TAU);
      await service.close();
    },
  );
});
