/**
 * When the limiter's store fails. Each test puts a fault point between two fresh instances and
 * Redis, then:
 *   - takes Redis down (connections reset, new ones refused);
 *   - brings it back, and checks that limiting resumes;
 *   - makes it silent (connections accepted, nothing ever answered: what a network partition or a
 *     stuck server looks like);
 *   - brings it back again.
 * Through both faults every request must get the answer failMode promises, and quickly: a request
 * that waits for Redis more than a few seconds counts as a hang (the README asks for about a
 * second).
 */
import { describe, expect, test } from 'vitest';
import { points, sleep, summarizeOutcomes, useLab, type Outcome, type Service } from '../../../harness/testing/index.js';
import { call, healthy, newKey, seq } from './api.js';

const LIMIT = 3;
const WINDOW_MS = 120_000;
/** A request that takes longer than this while Redis is failing counts as a hang. */
const HANG_MS = 5_000;
/** How long Redis may take to be used again after it is back (a reconnect backoff of a few seconds is fine). */
const RECOVERY_MS = 20_000;

const lab = useLab({ instances: 0, settings: { limit: LIMIT, windowMs: WINDOW_MS } });

/**
 * Polls with fresh keys until one gets exactly LIMIT requests through, then a 429, as the
 * requests alternate between the instances. Returns the last attempt's statuses.
 */
async function limitingWorks(service: Service): Promise<{ ok: boolean; last: number[] }> {
  const end = Date.now() + RECOVERY_MS;
  const want = seq([...Array(LIMIT).fill(200), 429]);
  for (;;) {
    const key = await newKey(lab);
    const last: number[] = [];
    for (let i = 0; i <= LIMIT; i++)
      last.push(
        await call(service, i, key, HANG_MS).then(
          (r) => r.status,
          () => 0,
        ),
      );
    if (seq(last) === want || Date.now() > end) return { ok: seq(last) === want, last };
    await sleep(250);
  }
}

/** Three rounds of one request per instance, all for one key. */
async function duringFault(service: Service): Promise<(Outcome & { ms?: number })[]> {
  const key = await newKey(lab);
  const outcomes: (Outcome & { ms?: number })[] = [];
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(
      [0, 1].map((i) =>
        call(service, i, key, HANG_MS).then(
          (r) => ({ status: r.status, ms: r.ms }),
          (e: Error) => ({ status: 0, error: e.message.includes('did not answer') ? `hung for over ${HANG_MS / 1000} s` : e.message }),
        ),
      ),
    );
    outcomes.push(...answers);
    await sleep(200);
  }
  return outcomes;
}

async function failureDrill(failMode: 'open' | 'closed') {
  const expectStatus = failMode === 'open' ? 200 : 503;
  const policy =
    failMode === 'open'
      ? `failMode "open" lets requests through (200) while the limiter cannot reach Redis`
      : `failMode "closed" refuses requests (503) while the limiter cannot reach Redis`;
  const fp = await lab.faultPoint('redis');
  const service = await lab.startService({ instances: 2, redisUrl: fp.url, settings: { failMode } });
  await healthy(service);

  const start = await limitingWorks(service);
  expect(
    start.ok,
    `before any fault, fresh keys should get ${LIMIT} requests and then a 429 as requests alternate between the two ` +
      `instances; after ${RECOVERY_MS / 1000} s of attempts the last one got [${seq(start.last)}]`,
  ).toBe(true);

  const check = (what: string, outcomes: (Outcome & { ms?: number })[]) => {
    const answered = outcomes.filter((o) => o.ms !== undefined).map((o) => o.ms!);
    const slowest = answered.length ? `; the slowest answer took ${Math.round(Math.max(...answered))} ms` : '';
    const hung = outcomes.some((o) => o.status === 0);
    expect(
      outcomes.filter((o) => o.status !== expectStatus).length,
      `${what}: ${summarizeOutcomes('requests', outcomes, (o) => o.status === expectStatus)}${slowest}. ${policy}` +
        (hung
          ? `, and must decide quickly. A Redis client that queues commands while disconnected (the offline queue), ` +
            `retries them for a long time (maxRetriesPerRequest), or waits forever for an answer (no commandTimeout) ` +
            `makes the request hang.`
          : `: catch the limiter's Redis errors and apply the setting.`),
    ).toBe(0);
  };

  await fp.down();
  check('with Redis down', await duringFault(service));
  await fp.heal();
  const back = await limitingWorks(service);
  expect(
    back.ok,
    `Redis came back ${RECOVERY_MS / 1000} s ago but a fresh key still does not get exactly ${LIMIT} requests then a 429 ` +
      `[${seq(back.last)}]: does the client reconnect (retryStrategy)?`,
  ).toBe(true);

  await fp.timeout();
  check('with Redis silent (connections open, no answers)', await duringFault(service));
  // A long partition ends with the connections reset; then the server is reachable again.
  await fp.down();
  await fp.heal();
  const again = await limitingWorks(service);
  expect(
    again.ok,
    `after Redis was silent and came back, a fresh key still does not get exactly ${LIMIT} requests then a 429 within ` +
      `${RECOVERY_MS / 1000} s [${seq(again.last)}]`,
  ).toBe(true);
  await service.close();
}

// The two drills are independent (each has its own fault point, instances and keys): they run at
// once, so that their waits for Redis to fail and recover overlap.
describe.concurrent('when Redis fails', () => {
  test(
    'when Redis is down or silent and failMode is "open" then requests are let through without hanging, and limiting resumes when Redis is back',
    points(2, { id: 'fail-open', timeout: 150_000 }),
    () => failureDrill('open'),
  );

  test(
    'when Redis is down or silent and failMode is "closed" then requests get 503 without hanging, and limiting resumes when Redis is back',
    points(2, { id: 'fail-closed', timeout: 150_000 }),
    () => failureDrill('closed'),
  );
});
