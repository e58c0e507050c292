/**
 * Graded tests for the idempotency lab. Two service instances share one database and one Redis
 * throughout, and retries deliberately land on the other instance: a key remembered in one
 * process's memory protects nothing. The card acquirer is a stub these tests run (provider-stub.ts);
 * it counts every charge, and can be made slow or failing per customer.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual as sameJson } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  evidence,
  HttpTimeoutError,
  overlap,
  points,
  sleep,
  useLab,
  type HttpResponse,
  type Service,
} from '../../../harness/testing/index.js';
import { ProviderStub } from './provider-stub.js';

const lab = useLab({ instances: 0 });
let provider: ProviderStub;
let service: Service;

beforeAll(async () => {
  provider = await ProviderStub.start();
  service = await lab.startService({ instances: 2, settings: { providerUrl: provider.url } });
});
afterAll(async () => {
  await provider?.close();
});

let seq = 0;
const newCustomer = (what: string) => `cus_${what}_${++seq}`;
const newKey = () => randomUUID();

/** POST /payments on instance `i` (of `via`, by default the file's service), with the Idempotency-Key header when a key is given. */
function pay(i: number, body: unknown, key: string | undefined, timeoutMs = 30_000, via: Service = service): Promise<HttpResponse> {
  return via.http(i).post('/payments', body, { headers: key === undefined ? {} : { 'Idempotency-Key': key }, timeoutMs });
}

/** Sends the request again while it answers 409 (the first attempt still in flight), for up to `timeoutMs`. */
async function payUntilSettled(i: number, body: unknown, key: string, timeoutMs = 10_000, via: Service = service): Promise<HttpResponse> {
  const end = Date.now() + timeoutMs;
  let res = await pay(i, body, key, 30_000, via);
  while (res.status === 409 && Date.now() < end) {
    await sleep(200);
    res = await pay(i, body, key, 30_000, via);
  }
  return res;
}

const isReplay = (res: HttpResponse) => res.headers.get('idempotent-replayed') === 'true';
const show = (res: HttpResponse) => `${res.status} ${res.text.slice(0, 300)}${isReplay(res) ? ' (marked Idempotent-Replayed: true)' : ''}`;

/** Payments Postgres holds as succeeded for a customer. */
async function succeeded(customerId: string): Promise<number[]> {
  const { rows } = await lab.db.query(`SELECT id FROM payments WHERE customer_id = $1 AND status = 'succeeded' ORDER BY id`, [customerId]);
  return rows.map((r) => Number(r.id));
}

/** "3 × 201, 7 × 409, 1 × no answer (…)" */
function tally(results: { status: number; error?: string }[]): string {
  const groups = new Map<string, number>();
  for (const r of results) {
    const k = r.error ? `no answer (${r.error.split(':')[0]})` : `${r.status}`;
    groups.set(k, (groups.get(k) ?? 0) + 1);
  }
  return [...groups.entries()].map(([k, n]) => `${n} × ${k}`).join(', ');
}

/** Asserts that `res` replays `original`: same status, same body, marked as a replay. */
function expectReplay(res: HttpResponse, original: HttpResponse, what: string) {
  expect(
    { status: res.status, body: res.body },
    `${what} answered ${show(res)}; a replay must return the original status and body (${show(original)})`,
  ).toEqual({ status: original.status, body: original.body });
  expect(isReplay(res), `${what} returned the original response but without the header Idempotent-Replayed: true`).toBe(true);
}

describe('payments', () => {
  test('when a payment is made then the card is charged once and the payment is stored', points(1, { id: 'payment' }), async () => {
    const customerId = newCustomer('basic');
    const body = { customerId, amountCents: 1_250, currency: 'USD' };
    const res = await pay(0, body, newKey());
    expect(res.status, `POST /payments answered ${show(res)}`).toBe(201);
    expect(res.body).toMatchObject({ ...body, status: 'succeeded', id: expect.any(Number) });
    expect(isReplay(res), 'a first request is not a replay: it must not carry Idempotent-Replayed: true').toBe(false);
    expect(provider.charges(customerId).map((c) => c.amountCents)).toEqual([1_250]);
    expect(await succeeded(customerId), 'Postgres should hold the payment as succeeded, under the id the API returned').toEqual([
      res.body.id,
    ]);
    const viaOther = await service.http(1).get(`/payments/${res.body.id}`);
    expect(viaOther.status).toBe(200);
    expect(viaOther.body).toEqual(res.body);
  });

  test('when the body is invalid then the answer is 400 and nothing is charged', points(1, { id: 'invalid-body' }), async () => {
    const customerId = newCustomer('invalid');
    const bodies: [string, unknown][] = [
      ['a negative amount', { customerId, amountCents: -500, currency: 'USD' }],
      ['a fractional amount', { customerId, amountCents: 12.5, currency: 'USD' }],
      ['an amount given as a string', { customerId, amountCents: '1000', currency: 'USD' }],
      ['no currency', { customerId, amountCents: 1_000 }],
    ];
    for (const [i, [what, body]] of bodies.entries()) {
      const res = await pay(i, body, newKey());
      expect(res.status, `a payment with ${what} answered ${show(res)}; expected 400`).toBe(400);
    }
    expect(provider.charges(customerId), 'an invalid payment must never reach the card').toEqual([]);
    expect(await succeeded(customerId)).toEqual([]);
  });

  test(
    'when the same key is sent again then the card is charged once and the original response is replayed',
    points(3, { id: 'replay' }),
    async () => {
      const customerId = newCustomer('retry');
      const body = { customerId, amountCents: 4_999, currency: 'USD' };
      const key = newKey();
      const first = await pay(0, body, key);
      expect(first.status, `the first request answered ${show(first)}`).toBe(201);
      const retries = [await pay(1, body, key), await pay(0, body, key), await pay(1, body, key)];
      const charges = provider.charges(customerId).length;
      evidence('charges for one key, sent 4 times', charges);
      expect(
        charges,
        `${charges - 1} of 3 retries with the same Idempotency-Key charged the card again (${charges} charges for one payment): ` +
          'the key must be looked up, on every instance, before the card is charged',
      ).toBe(1);
      expect(isReplay(first), 'the first request is the original: it must not be marked Idempotent-Replayed: true').toBe(false);
      retries.forEach((r, i) => expectReplay(r, first, `retry ${i + 1} (on instance ${((i + 1) % 2) + 1})`));
      expect(await succeeded(customerId), 'Postgres should hold exactly one succeeded payment for the key').toEqual([first.body.id]);
    },
  );

  test(
    'when the same key is sent 10 times in parallel across two instances then exactly one charge is made',
    points(3, { id: 'parallel-retries' }),
    async () => {
      // Two instances whose Postgres is 25 ms away each way, as across availability zones: the gap
      // between looking a key up and writing it down is then as wide as it is in production.
      const farDb = await lab.faultPoint('postgres');
      await farDb.latency(25);
      const far = await lab.startService({ instances: 2, databaseUrl: farDb.url, settings: { providerUrl: provider.url } });
      const problems: string[] = [];
      let raced = false;
      let mostCharges = 0;
      for (let round = 1; round <= 3; round++) {
        const customerId = newCustomer(`race${round}`);
        const body = { customerId, amountCents: 2_000 + round, currency: 'EUR' };
        const key = newKey();
        provider.slow(customerId, 300);
        const settled = await overlap(10, (i) => pay(i, body, key, 30_000, far));
        const results = settled.map((s) => (s.ok ? { status: s.value.status, res: s.value } : { status: 0, error: s.error.message }));
        const charges = provider.charges(customerId).length;
        mostCharges = Math.max(mostCharges, charges);
        const label = `round ${round}: 10 requests with one key (${tally(results)})`;
        if (charges !== 1) {
          problems.push(`${label} charged the card ${charges} times`);
          raced ||= charges > 1;
          continue;
        }
        const odd = results.filter((r) => r.status !== 201 && r.status !== 409);
        if (odd.length) {
          problems.push(`${label}: every request must get the original response, or 409 while the first is still in flight`);
          continue;
        }
        const oks = results.flatMap((r) => ('res' in r && r.res && r.status === 201 ? [r.res] : []));
        const original = oks[0];
        if (!original) {
          problems.push(`${label}: no request got the payment back; the one that charged should have answered 201`);
          continue;
        }
        const differing = oks.filter((r) => !sameJson(r.body, original.body));
        if (differing.length) problems.push(`${label}: the 201 answers differ (${show(original)} vs ${show(differing[0]!)})`);
        const after = await payUntilSettled(round, body, key, 10_000, far);
        if (after.status !== 201 || !sameJson(after.body, original.body) || !isReplay(after))
          problems.push(`${label}: once the first finished, the same key answered ${show(after)} instead of replaying ${show(original)}`);
        const rows = await succeeded(customerId);
        if (rows.length !== 1) problems.push(`${label}: Postgres holds ${rows.length} succeeded payments for the key, expected 1`);
      }
      await far.close();
      evidence('charges for one key, sent 10 at once', mostCharges);
      if (raced)
        problems.push(
          'Looking the key up and claiming it must be one atomic step, shared by every instance (a unique constraint, SET NX, ' +
            'or a lock): otherwise several requests all see "no such key" and all charge.',
        );
      expect(problems, problems.join('\n')).toEqual([]);
    },
  );

  test(
    'when the same key comes with a different body then the answer is 422 and nothing is charged',
    points(2, { id: 'different-body' }),
    async () => {
      const customerId = newCustomer('mismatch');
      const body = { customerId, amountCents: 1_000, currency: 'USD' };
      const key = newKey();
      const first = await pay(0, body, key);
      expect(first.status, `the first request answered ${show(first)}`).toBe(201);
      const otherAmount = await pay(1, { ...body, amountCents: 2_500 }, key);
      const otherCurrency = await pay(0, { ...body, currency: 'EUR' }, key);
      const charges = provider.charges(customerId).map((c) => `${c.amountCents} ${c.currency}`);
      expect(charges, `the same key with a different body charged the card again (charges: ${charges.join(', ')})`).toEqual(['1000 USD']);
      for (const [what, res] of [
        ['the same key with amountCents 2500 instead of 1000', otherAmount],
        ['the same key with currency EUR instead of USD', otherCurrency],
      ] as const)
        expect(
          res.status,
          `${what} answered ${show(res)}. A key stands for one exact request: reusing it for another is a client bug, and must be ` +
            'refused with 422 (Unprocessable Content), neither charged nor answered with the other payment as if it were this one',
        ).toBe(422);
      const again = await pay(1, body, key);
      expectReplay(again, first, 'the original request sent again after the 422s');
    },
  );

  test(
    'when the Idempotency-Key header is missing then the answer is 400 and nothing is charged',
    points(1, { id: 'missing-key' }),
    async () => {
      const customerId = newCustomer('nokey');
      const body = { customerId, amountCents: 700, currency: 'GBP' };
      const missing = await pay(0, body, undefined);
      const empty = await pay(1, body, '');
      expect(
        missing.status,
        `a payment without an Idempotency-Key answered ${show(missing)}; expected 400: it could not be retried safely`,
      ).toBe(400);
      expect(empty.status, `a payment with an empty Idempotency-Key answered ${show(empty)}; expected 400`).toBe(400);
      expect(provider.charges(customerId).length, 'a payment refused for lack of a key must not charge the card').toBe(0);
      expect(await succeeded(customerId)).toEqual([]);
    },
  );

  test(
    'when two customers use the same key then each is charged once and gets its own payment back',
    points(2, { id: 'key-per-customer' }),
    async () => {
      const key = newKey();
      const alice = newCustomer('alice');
      const bob = newCustomer('bob');
      const a = await pay(0, { customerId: alice, amountCents: 3_000, currency: 'USD' }, key);
      const b = await pay(1, { customerId: bob, amountCents: 3_000, currency: 'USD' }, key);
      expect(a.status, `the first customer's payment answered ${show(a)}`).toBe(201);
      expect(
        b.status,
        `a second customer using the same key answered ${show(b)}. Keys are generated by each customer's own client: they must be ` +
          "scoped per customer, so that one customer can never block, or be handed, another customer's payment",
      ).toBe(201);
      expect(b.body.customerId, `the second customer was handed the first customer's payment: ${show(b)}`).toBe(bob);
      expect(isReplay(b), "the second customer's first payment is not a replay").toBe(false);
      const a2 = await pay(1, { customerId: alice, amountCents: 3_000, currency: 'USD' }, key);
      const b2 = await pay(0, { customerId: bob, amountCents: 3_000, currency: 'USD' }, key);
      const charged = { [alice]: provider.charges(alice).length, [bob]: provider.charges(bob).length };
      expect(charged, 'each customer should be charged exactly once, retries included').toEqual({ [alice]: 1, [bob]: 1 });
      expectReplay(a2, a, "the first customer's retry");
      expectReplay(b2, b, "the second customer's retry");
    },
  );

  test(
    'when the provider fails then the key is not burned: a retry with it succeeds and charges once',
    points(3, { id: 'provider-failure' }),
    async () => {
      const customerId = newCustomer('flaky');
      const body = { customerId, amountCents: 8_800, currency: 'USD' };
      const key = newKey();
      provider.failNext(customerId, 1);
      const failed = await pay(0, body, key);
      expect(
        failed.status >= 500 && failed.status < 600,
        `while the provider refused the charge (503), the API answered ${show(failed)}; the client must be told the payment failed (5xx)`,
      ).toBe(true);
      expect(provider.refusals(customerId), 'the provider should have been asked once and refused').toBe(1);

      const retry = await payUntilSettled(1, body, key, 8_000);
      expect(
        retry.status,
        `the retry with the same key answered ${show(retry)} after the provider had failed. Nothing was charged, so the key must ` +
          "not be burned: release it (or never store the failure) so that the client's retry can still pay" +
          (retry.status === 409 ? '. It stayed "in progress" for 8 s after the first attempt had ended' : ''),
      ).toBe(201);
      expect(isReplay(retry), 'the successful retry is the first success for this key, not a replay').toBe(false);
      const again = await pay(0, body, key);
      const charges = provider.charges(customerId).length;
      expect(charges, `after a failed attempt, a successful retry and one more retry, the card was charged ${charges} times`).toBe(1);
      expectReplay(again, retry, 'a retry after the successful one');
      expect(await succeeded(customerId), 'Postgres should hold exactly one succeeded payment for the key').toEqual([retry.body.id]);
    },
  );

  test(
    'when a key is retried inside its retention window then it is replayed, and once the window has passed then it is a new payment',
    points(2, { id: 'retention-window' }),
    async () => {
      // lab.json keeps a finished key 24 hours (idempotencyRetentionSeconds: 86400); these two
      // instances keep it 2 s, so that both sides of the window fit in a test.
      const retentionSeconds = 2;
      const short = await lab.startService({
        instances: 2,
        settings: { providerUrl: provider.url, idempotencyRetentionSeconds: retentionSeconds },
      });
      // Each instance's first request opens its connections: make them before the clock matters.
      await Promise.all([short.http(0).get('/health'), short.http(1).get('/health')]);
      const window = `the ${retentionSeconds} s retention window (settings.idempotencyRetentionSeconds = ${retentionSeconds})`;
      const customerId = newCustomer('retention');
      const body = { customerId, amountCents: 6_100, currency: 'USD' };
      const key = newKey();
      const first = await pay(0, body, key, 30_000, short);
      const answeredAt = Date.now();
      expect(first.status, `the first request answered ${show(first)}`).toBe(201);

      const inside = await pay(1, body, key, 30_000, short);
      const insideMs = Date.now() - answeredAt;
      const chargedInside = provider.charges(customerId).length;
      expect(
        chargedInside,
        `a retry ${insideMs} ms after the first answer, well inside ${window}, charged the card again (${chargedInside} charges, ` +
          `answer ${show(inside)}). Inside its window a key must replay its response. A window far shorter than configured is ` +
          'usually a unit mistake: seconds handed to something that counts milliseconds (PX, Date.now(), setTimeout) turn ' +
          'the 24 h promised to clients into 86 s',
      ).toBe(1);
      expectReplay(inside, first, `a retry ${insideMs} ms after the first answer, inside ${window},`);

      await sleep(answeredAt + (retentionSeconds + 1) * 1_000 - Date.now());
      const past = await pay(0, body, key, 30_000, short);
      const pastMs = Date.now() - answeredAt;
      expect(
        { status: past.status, replayed: isReplay(past), newPayment: past.body?.id !== first.body.id },
        `${(pastMs / 1_000).toFixed(1)} s after the first answer, past ${window}, the same key answered ${show(past)}. ` +
          'Past its retention a key is forgotten: the same request is a new payment (201, charged, not a replay). A window ' +
          'far longer than configured is usually a unit mistake: milliseconds handed to something that counts seconds ' +
          `(EX, make_interval(secs => …), interval '1 second' * n) keep ${retentionSeconds} s for ${Math.round((retentionSeconds * 1_000) / 60)} minutes`,
      ).toEqual({ status: 201, replayed: false, newPayment: true });
      const again = await pay(1, body, key, 30_000, short);
      expectReplay(again, past, 'a retry right after the new payment');
      const charges = provider.charges(customerId).length;
      expect(
        charges,
        `one payment inside the window and one after it should charge twice in all; the card was charged ${charges} times`,
      ).toBe(2);
      expect(await succeeded(customerId), 'Postgres should hold the two succeeded payments').toEqual([first.body.id, past.body.id]);
      await short.close();
    },
  );

  test(
    'when the client gives up waiting and retries while the charge is still running then the card is charged once',
    points(2, { id: 'retry-during-charge' }),
    async () => {
      const customerId = newCustomer('impatient');
      const body = { customerId, amountCents: 15_000, currency: 'USD' };
      const key = newKey();
      provider.slow(customerId, 2_500);
      // The client gives up after 0.8 s (the provider takes 2.5 s); the service carries on with the charge.
      await pay(0, body, key, 800).catch((e: unknown) => {
        if (!(e instanceof HttpTimeoutError)) throw e;
      });
      const retry = await pay(1, body, key);
      expect(
        [201, 409],
        `the retry, sent while the first charge was still running, answered ${show(retry)}; expected 409 (still in progress) or the original payment`,
      ).toContain(retry.status);
      const settled = await payUntilSettled(0, body, key, 15_000);
      const charges = provider.charges(customerId).length;
      expect(
        charges,
        `the client timed out after 0.8 s and retried with the same key while the first charge was still running: the card was charged ` +
          `${charges} times. A key must be claimed before the charge starts, not recorded after it succeeds`,
      ).toBe(1);
      expect(settled.status, `once the first charge finished, the same key answered ${show(settled)}`).toBe(201);
      expect(isReplay(settled), 'the answer after the first charge finished should be a replay of it').toBe(true);
      if (retry.status === 201) expect(retry.body).toEqual(settled.body);
      expect(await succeeded(customerId)).toEqual([settled.body.id]);
    },
  );
});
