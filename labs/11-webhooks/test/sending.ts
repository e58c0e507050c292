/**
 * What the sending tests share: a service whose webhooks go to the subscriber stub, a payment that
 * makes it send one, and a readable timeline of the attempts the stub saw.
 */
import { expect } from 'vitest';
import type { LabContext, Service } from '../../../harness/testing/index.js';
import { deliver, is2xx, paymentEvent, PROVIDER_SECRET, show, signed, SUBSCRIBER_SECRET } from './provider.js';
import type { Attempt, SubscriberStub } from './subscriber-stub.js';

/** deliveryAttempts in the sending tests: the first attempt and three retries. */
export const ATTEMPTS = 4;

/** Two instances that credit payments at once (no fulfilment time) and send their webhooks to the stub. */
export function startSending(
  lab: LabContext,
  stub: SubscriberStub,
  retryBaseMs: number,
  more: Record<string, unknown> = {},
): Promise<Service> {
  return lab.startService({
    instances: 2,
    settings: {
      providerSecret: PROVIDER_SECRET,
      processingMs: 0,
      subscriberUrl: `${stub.url}/hooks`,
      subscriberSecret: SUBSCRIBER_SECRET,
      deliveryAttempts: ATTEMPTS,
      retryBaseMs,
      ...more,
    },
  });
}

/** A payment for the customer, delivered to the service: it credits them and sends our webhook. */
export async function pay(service: Service, customerId: string): Promise<void> {
  const res = await deliver(service, 0, signed(JSON.stringify(paymentEvent(customerId, 1_200))));
  expect(is2xx(res.status), `the provider's delivery answered ${show(res)}`).toBe(true);
}

/** "0 ms → 500, +512 ms → 500, +1034 ms → 200" */
export const timeline = (attempts: Attempt[]) =>
  attempts.map((a, i) => `${i === 0 ? '0' : `+${Math.round(a.at - attempts[i - 1]!.at)}`} ms → ${a.status}`).join(', ');
