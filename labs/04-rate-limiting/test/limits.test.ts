/**
 * The core of the lab: a limit of 10 requests per key per window, enforced across two service
 * instances. The window is long (5 minutes) so that every test here finishes well inside one
 * window, and well inside the time any correct algorithm (sliding log, sliding-window counter,
 * token bucket, GCRA) takes to grant one more request.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { evidence, overlap, points, summarizeOutcomes, useLab, type Outcome } from '../../../harness/testing/index.js';
import { ENDPOINT, call, count, healthy, newKey, seq } from './api.js';

const LIMIT = 10;
const WINDOW_MS = 300_000;
/** Added to every packet between the service and Redis in the concurrency test. */
const REDIS_LATENCY_MS = 10;
/** Bursts the concurrency test may repeat when Redis did not answer in time and some requests got 503. */
const BURST_ATTEMPTS = 4;
const lab = useLab({ instances: 2, settings: { limit: LIMIT, windowMs: WINDOW_MS } });

beforeAll(async () => {
  await healthy(lab.service);
});

/** A sentence on what the service logged about Redis failing, if it did ("" if not). */
function redisTrouble(logs: string): string {
  const lines = logs.split('\n').filter((l) => /redis|timed out|timeout|ECONN|offline queue|writeable/i.test(l));
  return lines.length
    ? ` The service logged ${lines.length} line(s) about Redis failing, such as "${lines[0]!.trim().slice(0, 160)}".`
    : '';
}

/** Sends n requests for one key one after another, alternating between the two instances. */
async function alternate(key: string, n: number, offset = 0): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await call(lab.service, i + offset, key)).status);
  return statuses;
}

const expected = (allowed: number, rejected: number) => [...Array(allowed).fill(200), ...Array(rejected).fill(429)];

describe('a limit per API key, shared by both instances', () => {
  test('when the API key is missing, unknown or revoked then the answer is 401', points(1, { id: 'unauthorized' }), async () => {
    const revoked = await newKey(lab);
    await lab.db.query('UPDATE api_keys SET revoked_at = now() WHERE key = $1', [revoked]);
    const missing = await lab.service.http(0).get(ENDPOINT);
    const unknown = await lab.service.http(1).get(ENDPOINT, { headers: { 'x-api-key': 'pk_test_nobody' } });
    const gone = await lab.service.http(0).get(ENDPOINT, { headers: { 'x-api-key': revoked } });
    expect(
      { missing: missing.status, unknown: unknown.status, revoked: gone.status },
      'every /v1 request needs a valid X-API-Key header: a missing, unknown or revoked key is a 401',
    ).toEqual({ missing: 401, unknown: 401, revoked: 401 });
  });

  test(
    `when requests for one key alternate between the two instances then exactly ${LIMIT} are allowed`,
    points(3, { id: 'two-instances' }),
    async () => {
      const key = await newKey(lab);
      const statuses = await alternate(key, LIMIT + 5);
      const allowed = count(statuses, 200);
      evidence(`allowed across two instances (limit ${LIMIT})`, allowed, { of: LIMIT + 5 });
      const why =
        allowed > LIMIT
          ? `each instance keeps its own count, so a key gets the limit once per instance. Keep the count where both instances see it (Redis).`
          : allowed < LIMIT
            ? `fewer than the limit passed: is something else counted against the key (rejected requests, other keys, the address)?`
            : `the right number passed, but not the first ones.`;
      expect(
        statuses,
        `${allowed} of ${LIMIT + 5} requests for one key were allowed (limit ${LIMIT}) as they alternated between the two instances ` +
          `[${seq(statuses)}]: ${why}`,
      ).toEqual(expected(LIMIT, 5));
    },
  );

  test(
    `when 200 requests for one key arrive at once then exactly ${LIMIT} are allowed (the check is atomic)`,
    points(3, { id: 'atomic-check', timeout: 120_000 }),
    async () => {
      // Two fresh instances whose Redis is a few milliseconds away, as in production (another rack,
      // another zone): every round trip to Redis then leaves room for other requests to slip in.
      // They fail closed, so that a request the limiter could not decide in time (a busy machine)
      // shows up as a 503, never as an uncounted 200.
      // An attempt that was inconclusive is repeated on new instances: a client whose commands
      // timed out once is not trusted to judge the next burst.
      const fp = await lab.faultPoint('redis');
      await fp.latency(REDIS_LATENCY_MS);
      const inconclusive: string[] = [];
      let logs = '';
      for (let attempt = 1; attempt <= BURST_ATTEMPTS; attempt++) {
        const service = await lab.startService({ instances: 2, redisUrl: fp.url, settings: { failMode: 'closed' } });
        await healthy(service);
        // One request on each instance first (they count against the limit), so that both
        // instances have looked the key up and the 200 reach the limiter close together.
        const key = await newKey(lab);
        // The burst is timing-sensitive (Redis is 10 ms away, and the limiter gives up after its own
        // time-out): no other run's burst shares the CPU with it.
        const { first, results } = await lab.exclusive(async () => {
          const first = [(await call(service, 0, key)).status, (await call(service, 1, key)).status];
          return { first, results: await overlap(200, (i) => call(service, i, key, 30_000)) };
        });
        const outcomes: Outcome[] = [
          ...first.map((status) => ({ status })),
          ...results.map((r) => (r.ok ? { status: r.value.status } : { status: 0, error: r.error.message })),
        ];
        const answered = (o: Outcome) => o.status === 200 || o.status === 429 || o.status === 503;
        evidence(`allowed from a burst at once (limit ${LIMIT})`, outcomes.filter((o) => o.status === 200).length, { of: outcomes.length });
        expect(
          outcomes.filter((o) => !answered(o)).length,
          summarizeOutcomes('requests', outcomes, answered) + ': every answer should be 200, 429 (or 503 if Redis did not answer in time)',
        ).toBe(0);
        const allowed = outcomes.filter((o) => o.status === 200).length;
        const unavailable = outcomes.filter((o) => o.status === 503).length;
        logs = service.logs();
        const trouble = redisTrouble(logs);
        expect(
          allowed,
          `${allowed} requests for one key were allowed (limit ${LIMIT}): ${count(first, 200)} of 2 sent one by one, then ` +
            `${allowed - count(first, 200)} of 200 sent at once. Many requests read the count before any of them had added ` +
            `to it. Checking and counting must be one atomic step in the shared store (one Lua script, or the value INCR ` +
            `returns), not a read followed by a write` +
            (allowed >= 2 * LIMIT ? `; and each instance may be counting on its own.` : '.') +
            trouble,
        ).toBeLessThanOrEqual(LIMIT);
        if (unavailable === 0) {
          expect(
            allowed,
            `only ${allowed} of ${LIMIT} allowed requests passed, with no 503: do rejected requests, or failed writes, use up the quota?`,
          ).toBe(LIMIT);
          await service.close();
          return;
        }
        await service.close();
        inconclusive.push(`attempt ${attempt}: ${unavailable} × 503 and ${allowed} allowed`);
      }
      expect.fail(
        `in each of ${BURST_ATTEMPTS} bursts the limiter could not reach Redis in time for some requests and answered 503 ` +
          `(${inconclusive.join('; ')}). Redis is only ${REDIS_LATENCY_MS} ms away here: is the limiter's timeout on Redis ` +
          `too short for a busy machine?${redisTrouble(logs)}`,
      );
    },
  );

  test(`when two keys are used at the same time then each gets its own ${LIMIT} requests`, points(2, { id: 'per-key' }), async () => {
    const [a, b] = [await newKey(lab, 'acme'), await newKey(lab, 'globex')];
    const sa: number[] = [];
    const sb: number[] = [];
    for (let i = 0; i < LIMIT + 3; i++) {
      const [ra, rb] = await Promise.all([call(lab.service, i, a), call(lab.service, i + 1, b)]);
      sa.push(ra.status);
      sb.push(rb.status);
    }
    const fresh = await newKey(lab, 'initech');
    const c = (await call(lab.service, 0, fresh)).status;
    expect(
      { acme: count(sa, 200), globex: count(sb, 200), aNewCustomer: c },
      `two customers sent ${LIMIT + 3} requests each, interleaved: acme got ${count(sa, 200)} through [${seq(sa)}], ` +
        `globex ${count(sb, 200)} [${seq(sb)}], and a third customer's first request got ${c}. Each API key has its own quota: ` +
        `a limit keyed by IP address lumps together every customer behind one address (all test traffic comes from 127.0.0.1).`,
    ).toEqual({ acme: LIMIT, globex: LIMIT, aNewCustomer: 200 });
  });

  test('when a key has been limited then its count lives in Redis and expires', points(1, { id: 'count-in-redis' }), async () => {
    const key = await newKey(lab);
    const statuses = await alternate(key, LIMIT + 1);
    expect(
      statuses,
      `a fresh key should get ${LIMIT} requests and then a 429 [${seq(statuses)}] (earlier tests here sent other keys from ` +
        `the same address: is the limit kept per API key, and shared by both instances?)`,
    ).toEqual(expected(LIMIT, 1));
    const keys = await lab.redis.keys('*');
    expect(
      keys.length,
      `Redis holds nothing after ${statuses.length} requests: the limiter keeps its counts in process memory, where the other ` +
        `instance cannot see them and a restart forgets them`,
    ).toBeGreaterThan(0);
    const ttls = await Promise.all(keys.map(async (k) => ({ key: k, pttl: await lab.redis.pttl(k) })));
    const forever = ttls.filter((t) => t.pttl < 0);
    expect(
      forever.map((t) => t.key),
      `${forever.length} of ${keys.length} keys in Redis never expire: with state per customer, Redis then grows without bound. ` +
        `Give each key a TTL (PEXPIRE) that outlives the window it describes.`,
    ).toEqual([]);
    const tooLong = ttls.filter((t) => t.pttl > 3 * WINDOW_MS);
    expect(
      tooLong.map((t) => `${t.key} (${Math.round(t.pttl / 1000)} s)`),
      `these keys live far longer than the ${WINDOW_MS / 1000} s window they describe`,
    ).toEqual([]);
  });
});
