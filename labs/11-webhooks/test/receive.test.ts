/**
 * Receiving the provider's webhooks: only deliveries signed with our secret, over the exact bytes
 * sent, and recent; each event applied once, whichever instance and however often it arrives.
 * Two instances; fulfilment takes 0.3 s here.
 */
import { describe, expect, test } from 'vitest';
import { eventually, overlap, points, sleep, useLab } from '../../../harness/testing/index.js';
import { credits, deliver, is2xx, newCustomer, nowSeconds, paymentEvent, PROVIDER_SECRET, show, signed } from './provider.js';

const TOLERANCE_S = 300;
const PROCESSING_MS = 300;
const lab = useLab({
  instances: 2,
  settings: { providerSecret: PROVIDER_SECRET, toleranceSeconds: TOLERANCE_S, processingMs: PROCESSING_MS },
});

/** Waits until the customer has `n` credits (or 8 s pass), then the processing time again, so that a late second credit shows. */
async function settledCredits(customerId: string, n: number) {
  await eventually(async () => (await credits(lab, customerId)).count >= n, { timeoutMs: 8_000, everyMs: 100 });
  await sleep(PROCESSING_MS + 700);
  return credits(lab, customerId);
}

describe('receiving webhooks', () => {
  test(
    'when a body is altered or signed with another secret then it is refused with 401 and not applied',
    points(2, { id: 'forged' }),
    async () => {
      const customerId = newCustomer('forged');
      const genuine = signed(JSON.stringify(paymentEvent(customerId, 1_000)));
      const tampered = { raw: genuine.raw.replace('"amountCents":1000', '"amountCents":900000'), headers: genuine.headers };
      const cases: [string, Parameters<typeof deliver>[2]][] = [
        ['a body altered after signing (amountCents 1000 → 900000), with the original signature', tampered],
        [
          'a body signed with another secret',
          signed(JSON.stringify(paymentEvent(customerId, 2_000)), { secret: 'whsec_attacker_00000000' }),
        ],
        [
          'a body with no Webhook-Signature header',
          {
            raw: JSON.stringify(paymentEvent(customerId, 3_000)),
            headers: { 'content-type': 'application/json', 'webhook-timestamp': String(nowSeconds()) },
          },
        ],
      ];
      for (const [i, [what, d]] of cases.entries()) {
        const res = await deliver(lab.service, i, d);
        expect(
          res.status,
          `${what} answered ${show(res)}: anyone can POST to a webhook URL, so only a valid signature makes it the provider's`,
        ).toBe(401);
      }
      await sleep(PROCESSING_MS + 700);
      expect(await credits(lab, customerId), 'a refused delivery must not credit anybody').toEqual({ count: 0, cents: 0 });
    },
  );

  test(
    'when the signature is right over the raw bytes, whitespace and escapes included, then the delivery is accepted and applied',
    points(2, { id: 'raw-body' }),
    async () => {
      const customerId = newCustomer('raw');
      const event = paymentEvent(customerId, 4_250);
      // Pretty-printed, keys in the provider's order, and an escaped é: JSON.stringify(JSON.parse(raw)) gives other bytes.
      const raw = `{\n  "id": "${event.id}",\n  "type": "payment.succeeded",\n  "created": ${event.created},\n  "data": {\n    "customerId": "${customerId}",\n    "amountCents": 4250,\n    "note": "caf\\u00e9 order"\n  }\n}\n`;
      const res = await deliver(lab.service, 1, signed(raw));
      expect(
        is2xx(res.status),
        `a delivery whose signature is right over the bytes sent answered ${show(res)}. The provider signs the raw body; ` +
          'a signature computed over the parsed JSON serialised again (other whitespace, other escapes) never matches: verify the raw bytes',
      ).toBe(true);
      expect(await settledCredits(customerId, 1), 'the accepted payment should credit the customer once').toEqual({
        count: 1,
        cents: 4_250,
      });
    },
  );

  test(
    `when a delivery is older than the tolerance (${TOLERANCE_S} s) then it is refused, and one inside it is accepted`,
    points(2, { id: 'replay-window' }),
    async () => {
      const customerId = newCustomer('replay');
      const old = signed(JSON.stringify(paymentEvent(customerId, 700)), { timestamp: nowSeconds() - TOLERANCE_S - 120 });
      const recent = signed(JSON.stringify(paymentEvent(customerId, 800)), { timestamp: nowSeconds() - TOLERANCE_S + 120 });
      const oldRes = await deliver(lab.service, 0, old);
      const recentRes = await deliver(lab.service, 1, recent);
      expect(
        oldRes.status,
        `a correctly signed delivery stamped ${TOLERANCE_S + 120} s ago answered ${show(oldRes)}. A captured delivery can be replayed ` +
          `at any time unless the signed Webhook-Timestamp is checked: refuse (401) one more than toleranceSeconds (${TOLERANCE_S}) from now`,
      ).toBe(401);
      expect(
        is2xx(recentRes.status),
        `a delivery stamped ${TOLERANCE_S - 120} s ago, inside the ${TOLERANCE_S} s tolerance, answered ${show(recentRes)}: the tolerance is in seconds`,
      ).toBe(true);
      expect(await settledCredits(customerId, 1), 'only the delivery inside the tolerance should credit the customer').toEqual({
        count: 1,
        cents: 800,
      });
    },
  );

  test(
    'when a signature has the wrong length or is not hex then the answer is 401, never a 500',
    points(1, { id: 'wrong-length' }),
    async () => {
      const customerId = newCustomer('length');
      const raw = JSON.stringify(paymentEvent(customerId, 500));
      const good = signed(raw);
      const sig = good.headers['webhook-signature']!;
      const variants: [string, string][] = [
        ['four hex digits', 'v1=abcd'],
        ['an empty signature', 'v1='],
        ['half a signature', sig.slice(0, 3 + 32)],
        ['a signature one byte too long', `${sig}00`],
        ['64 characters that are not hex', `v1=${'zz'.repeat(32)}`],
        ['no v1= prefix', 'garbage'],
      ];
      const problems: string[] = [];
      for (const [i, [what, value]] of variants.entries()) {
        const res = await deliver(lab.service, i, { raw, headers: { ...good.headers, 'webhook-signature': value } });
        if (res.status !== 401) problems.push(`${what} (${JSON.stringify(value)}) answered ${show(res)}`);
      }
      expect(
        problems,
        `${problems.join('; ')}. crypto.timingSafeEqual throws when its buffers differ in length: check the length (and the format) ` +
          'first, and answer 401, as for any other wrong signature',
      ).toEqual([]);
      await sleep(PROCESSING_MS + 700);
      expect(await credits(lab, customerId), 'a delivery with a malformed signature must not credit anybody').toEqual({
        count: 0,
        cents: 0,
      });
    },
  );

  test(
    'when the same event is delivered 5 times across both instances then all are acknowledged and it is applied once',
    points(3, { id: 'dedupe' }),
    async () => {
      const customerId = newCustomer('dupe');
      const raw = JSON.stringify(paymentEvent(customerId, 1_500));
      // The provider re-signs each redelivery: same event, same body, a fresh timestamp and signature.
      const together = await overlap(3, (i) => deliver(lab.service, i, signed(raw)));
      await eventually(async () => (await credits(lab, customerId)).count >= 1, { timeoutMs: 8_000, everyMs: 100 });
      const later = [await deliver(lab.service, 1, signed(raw)), await deliver(lab.service, 0, signed(raw))];
      const statuses = [...together.map((r) => (r.ok ? r.value.status : 0)), ...later.map((r) => r.status)];
      expect(
        statuses.every(is2xx),
        `the 5 deliveries answered [${statuses.join(' ')}]: a duplicate is acknowledged with 2xx too, or the provider keeps retrying it`,
      ).toBe(true);
      const got = await settledCredits(customerId, 1);
      expect(
        got.count,
        `one event delivered 5 times (3 at once, on both instances, then 2 more after it was applied) credited the customer ${got.count} ` +
          'times. The provider delivers at least once: record each event id where every instance sees it (a unique key in Postgres), ' +
          'atomically, and apply only the delivery that recorded it first',
      ).toBe(1);
    },
  );
});
