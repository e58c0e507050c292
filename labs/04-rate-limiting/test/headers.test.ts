/**
 * What a rejected client is told. A limit of 3 per 15 s: long enough that waiting is measurable,
 * short enough to wait it out. Every accepted algorithm needs at least 5 s before it grants a
 * 4th request (a token bucket refills one token every 15 / 3 = 5 s; a sliding log waits for the
 * oldest entry, about 15 s), so "clearly too early" and "on time" are seconds apart.
 *
 * Retry-After is judged in eleven scenarios at once, each on two keys:
 *   - "back to back": 3 requests, then a 4th at once;
 *   - "spread": 3 requests, then a 4th 3.95 s, 4.05 s, … 4.85 s after the first (ten scenarios).
 *     The true wait is then clearly shorter than a window (a sliding log: about 10.2 to 11 s; a
 *     token bucket: under a second), so a Retry-After that is always the window's length shows as
 *     the overstatement it is.
 * On one key of each scenario, a retry 3 s before the stated time must still be refused. On the
 * other, a retry 0.25 s after it must pass. They are separate keys because a limiter may count
 * refused attempts too (hammering then keeps a client out); its Retry-After holds for a client that
 * waits without trying. The server's clock read the wait no later than the test received the 429,
 * so a value rounded up is never too short, whatever the load, and a value rounded down is short by
 * the fraction it dropped. The ten spread scenarios put that fraction a tenth of a second apart, all
 * around the second, so on several of them it is over 0.6 s, whatever the machine's delays added to
 * every key alike: a value rounded down is caught unless every one of those retries was late by
 * more than that.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { bonus, points, useLab } from '../../../harness/testing/index.js';
import { call, healthy, newKey, rateLimitHeaders, seq, sleepUntil } from './api.js';

const LIMIT = 3;
const WINDOW_MS = 15_000;
/** No accepted algorithm makes a client wait longer than a window plus one refill interval. */
const MAX_WAIT_S = Math.ceil((WINDOW_MS + WINDOW_MS / LIMIT) / 1000);
const lab = useLab({ instances: 2, settings: { limit: LIMIT, windowMs: WINDOW_MS } });

beforeAll(async () => {
  await healthy(lab.service);
});

/**
 * Where the 4th request of the spread scenarios goes, after the first: inside one refill interval
 * (5 s), a tenth of a second apart, so that the fractions of a second in the true waits cover the
 * whole second.
 */
const SPREADS_MS = Array.from({ length: 10 }, (_, i) => 3_950 + 100 * i);
/** How long after the stated Retry-After the obedient retry is sent. */
const OBEY_MS = 250;

interface RetryCase {
  scenario: string;
  /** What the client saw, in order, for the messages. */
  seen: number[];
  retryAfter: string | null;
  /** Set when Retry-After was read: the retries and their answers. */
  early?: { afterS: number; status: number };
  onTime?: { afterMs: number; status: number; retryAfter: string | null };
  /** Why the scenario could not be staged (the key was never limited). */
  problem?: string;
}

/**
 * Spends a fresh key's quota (the 3 requests spread over `fourthAtMs`), then sends requests until
 * one is refused, and checks its Retry-After one way: `early`, a retry 3 s before the stated time
 * must still be refused (if the stated wait is over 3 s); `on time`, a retry just after it must
 * pass. Each key gets one check only: a limiter may count refused attempts too (so that hammering
 * keeps a client out), and its Retry-After then holds for a client that waits without trying.
 */
async function retryAfterCase(scenario: string, fourthAtMs: number, check: 'early' | 'on time'): Promise<RetryCase> {
  const key = await newKey(lab);
  const seen: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < LIMIT; i++) {
    seen.push((await call(lab.service, i, key)).status);
    if (i === 0) await sleepUntil(t0 + fourthAtMs / 2);
  }
  await sleepUntil(t0 + fourthAtMs);
  let rejected;
  // A correct limiter refuses the 4th; one more try covers a limiter whose windows are aligned to
  // the clock and happened to turn over between the requests.
  for (let i = 0; i < 2 && !rejected; i++) {
    const r = await call(lab.service, LIMIT + i, key);
    seen.push(r.status);
    if (r.status === 429) rejected = r;
  }
  const c: RetryCase = { scenario, seen, retryAfter: rejected?.headers.get('retry-after') ?? null };
  if (!rejected) {
    c.problem = `the key was never refused [${seq(seen)}]`;
    return c;
  }
  const rejectedAt = performance.now();
  if (!/^\d+$/.test(c.retryAfter ?? '')) return c;
  const after = Number(c.retryAfter);
  if (after < 1 || after > MAX_WAIT_S) return c;
  if (check === 'early') {
    if (after > 3) {
      await sleepUntil(rejectedAt + (after - 3) * 1000);
      c.early = { afterS: after - 3, status: (await call(lab.service, 0, key)).status };
    }
    return c;
  }
  await sleepUntil(rejectedAt + after * 1000 + OBEY_MS);
  const onTime = await call(lab.service, 1, key);
  c.onTime = { afterMs: after * 1000 + OBEY_MS, status: onTime.status, retryAfter: onTime.headers.get('retry-after') };
  return c;
}

describe('telling clients where they stand', () => {
  test(
    'when a request is over the limit then it gets 429 with a Retry-After that is accurate',
    points(2, { id: 'retry-after', timeout: 90_000 }),
    async () => {
      const scenarios: [string, number][] = [
        ['3 requests, then a 4th at once', 0],
        ...SPREADS_MS.map((ms): [string, number] => [`3 requests, the first ${ms / 1000} s before the 4th`, ms]),
      ];
      const cases = await Promise.all(
        scenarios.flatMap(([scenario, ms]) => [
          retryAfterCase(`${scenario}, retried 3 s early`, ms, 'early'),
          retryAfterCase(`${scenario}, retried on time`, ms, 'on time'),
        ]),
      );
      for (const c of cases) {
        const where = `${c.scenario} [${seq(c.seen)}]`;
        expect(
          c.problem,
          `${where}: ${c.problem}. With ${LIMIT} per ${WINDOW_MS / 1000} s the 4th must get 429 (is the count shared?)`,
        ).toBeUndefined();
        expect(c.seen.slice(0, LIMIT), `${where}: the first ${LIMIT} requests of a fresh key should all pass`).toEqual(
          Array(LIMIT).fill(200),
        );
        expect(
          c.retryAfter,
          `${where}: the 429 has no Retry-After header: the client cannot know when to come back, so it retries blindly`,
        ).not.toBeNull();
        expect(
          c.retryAfter,
          `${where}: Retry-After must be a whole number of seconds to wait (RFC 9110 delta-seconds), got "${c.retryAfter}"`,
        ).toMatch(/^\d+$/);
        const after = Number(c.retryAfter);
        expect(
          after,
          `${where}: Retry-After: ${after}. With ${LIMIT} requests per ${WINDOW_MS / 1000} s no client ever has to wait more than ` +
            `${MAX_WAIT_S} s, nor 0 s after a rejection (is it in milliseconds, or a timestamp?)`,
        ).toSatisfy((s: number) => s >= 1 && s <= MAX_WAIT_S);
        if (c.early)
          expect(
            c.early.status,
            `${where}: Retry-After said ${after} s, but a retry after only ${c.early.afterS} s already passed: it overstates the wait ` +
              `(a window's length instead of the time until the next request is really allowed?)`,
          ).toBe(429);
        if (c.onTime)
          expect(
            c.onTime.status,
            `${where}: Retry-After said ${after} s, but a retry ${(c.onTime!.afterMs / 1000).toFixed(2)} s after the 429 was still ` +
              `answered ${c.onTime?.status} (with Retry-After ${c.onTime?.retryAfter}): it understates the wait, so a client that obeys ` +
              `it is refused again. Round the wait up (Math.ceil), never down: Retry-After must never be shorter than the real wait.`,
          ).toBe(200);
      }
    },
  );

  test(
    'bonus: when requests are answered then RateLimit headers give the limit, the remaining quota and the reset time',
    bonus(1, { id: 'ratelimit-headers' }),
    async () => {
      const key = await newKey(lab);
      const seen = [];
      for (let i = 0; i <= LIMIT; i++) {
        const r = await call(lab.service, i, key);
        seen.push({ status: r.status, ...rateLimitHeaders(r.headers) });
      }
      const shown = seen
        .map(
          (s, i) =>
            `#${i + 1} ${s.status}: ${s.form === 'none' ? 'no RateLimit headers' : `limit=${s.limit} remaining=${s.remaining} reset=${s.reset}`}`,
        )
        .join('; ');
      expect(
        seen.map(({ status, limit, remaining }) => ({ status, limit, remaining })),
        `a fresh key limited to ${LIMIT}, ${LIMIT + 1} requests alternating between the instances: ${shown}. ` +
          `Every answer, 200 or 429, should carry RateLimit-Limit (the quota), RateLimit-Remaining (what is left after this ` +
          `request) and RateLimit-Reset (seconds).`,
      ).toEqual([
        ...Array.from({ length: LIMIT }, (_, i) => ({ status: 200, limit: LIMIT, remaining: LIMIT - 1 - i })),
        { status: 429, limit: LIMIT, remaining: 0 },
      ]);
      const resets = seen.map((s) => s.reset);
      expect(
        resets.every((r) => r !== undefined && r >= 0 && r <= MAX_WAIT_S) && resets[LIMIT]! >= 1,
        `RateLimit-Reset must be whole seconds from now, between 0 and ${MAX_WAIT_S} for this limit, and at least 1 on a 429; got [${resets.join(', ')}]`,
      ).toBe(true);
    },
  );
});
