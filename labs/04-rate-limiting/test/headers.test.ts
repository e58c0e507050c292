/**
 * What a rejected client is told. A limit of 3 per 15 s: long enough that waiting is measurable,
 * short enough to wait it out. Every accepted algorithm needs at least 5 s before it grants a
 * 4th request (a token bucket refills one token every 15 / 3 = 5 s; a sliding log waits for the
 * oldest entry, about 15 s), so "clearly too early" and "on time" are seconds apart.
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

describe('telling clients where they stand', () => {
  test(
    'when a request is over the limit then it gets 429 with a Retry-After that is accurate',
    points(2, { timeout: 90_000 }),
    async () => {
      const key = await newKey(lab);
      const first: number[] = [];
      for (let i = 0; i < LIMIT; i++) first.push((await call(lab.service, i, key)).status);
      expect(first, `the first ${LIMIT} requests of a fresh key should all pass [${seq(first)}]`).toEqual(Array(LIMIT).fill(200));

      const rejected = await call(lab.service, LIMIT, key);
      const rejectedAt = performance.now();
      expect(
        rejected.status,
        `request ${LIMIT + 1} of a key limited to ${LIMIT} per ${WINDOW_MS / 1000} s was answered ${rejected.status}, not 429 ` +
          `(it went to the other instance than request ${LIMIT}: is the count shared?)`,
      ).toBe(429);
      const raw = rejected.headers.get('retry-after');
      expect(raw, 'the 429 has no Retry-After header: the client cannot know when to come back, so it retries blindly').not.toBeNull();
      expect(raw, `Retry-After must be a whole number of seconds to wait (RFC 9110 delta-seconds), got "${raw}"`).toMatch(/^\d+$/);
      const after = Number(raw);
      expect(
        after,
        `Retry-After: ${after}. With ${LIMIT} requests per ${WINDOW_MS / 1000} s no client ever has to wait more than ` +
          `${MAX_WAIT_S} s, nor 0 s after a rejection (is it in milliseconds, or a timestamp?)`,
      ).toSatisfy((s: number) => s >= 1 && s <= MAX_WAIT_S);

      const early = Math.max(0, after - 3);
      await sleepUntil(rejectedAt + early * 1000);
      const tooEarly = await call(lab.service, 0, key);
      expect(
        tooEarly.status,
        `Retry-After said ${after} s, but a retry after only ${early} s already passed: it overstates the wait ` +
          `(a window's length instead of the time until the next request is really allowed?)`,
      ).toBe(429);

      await sleepUntil(rejectedAt + (after + 1) * 1000);
      const onTime = await call(lab.service, 1, key);
      expect(
        onTime.status,
        `Retry-After said ${after} s, but a retry after ${after + 1} s was still answered ${onTime.status} ` +
          `(with Retry-After ${onTime.headers.get('retry-after')}): it understates the wait, so a client that obeys it is refused again`,
      ).toBe(200);
    },
  );

  test(
    'bonus: when requests are answered then RateLimit headers give the limit, the remaining quota and the reset time',
    bonus(1),
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
