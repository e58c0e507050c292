/**
 * Sending our own webhooks. Each credited payment becomes a balance.credited webhook to our
 * subscriber (a stub these tests run). Deliveries are signed and retried with exponential backoff
 * and jitter. (The retry limit and replay are in replay.test.ts: a file, and so a database, of its
 * own, because its instances retry on another schedule and would take these deliveries too.)
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually, points, sleep, useLab } from '../../../harness/testing/index.js';
import { newCustomer, SUBSCRIBER_SECRET } from './provider.js';
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
});
