/**
 * A partition between the checkout and its price store (Redis, through a fault point that resets
 * every connection and refuses new ones). capMode says what a price write does then: CP refuses it
 * (503) and it never happens; AP accepts it (2xx), keeps it where it survives the instance, and
 * applies it once Redis is back, with no write lost and the last one winning.
 */
import { describe, expect, test } from 'vitest';
import { eventually, evidence, HttpTimeoutError, points, sleep, useLab, type HttpClient } from '../../../harness/testing/index.js';
import { ms } from './checkout.js';

const lab = useLab({ instances: 0 });

interface Write {
  sku: string;
  cents: number;
  status: number;
  ms: number;
}

async function putPrice(client: HttpClient, sku: string, cents: number): Promise<Write> {
  const started = performance.now();
  try {
    const res = await client.put(`/prices/${sku}`, { cents }, { timeoutMs: 3_000 });
    return { sku, cents, status: res.status, ms: res.ms };
  } catch (e) {
    if (e instanceof HttpTimeoutError) return { sku, cents, status: 0, ms: Math.round(performance.now() - started) };
    throw e;
  }
}

const show = (w: Write[]) =>
  w.map((x) => `${x.sku}=${x.cents}: ${x.status === 0 ? `no answer in ${ms(x.ms)}` : `${x.status} in ${ms(x.ms)}`}`).join('; ');

describe('partition from the price store', () => {
  test(
    'when Redis is partitioned away in CP mode then price writes are refused with 503 at once, and a refused write never lands after the heal',
    points(3, { id: 'cap-cp', timeout: 40_000 }),
    async () => {
      const fp = await lab.faultPoint('redis');
      const service = await lab.startService({ instances: 2, redisUrl: fp.url, settings: { capMode: 'CP' } });
      try {
        const before = await putPrice(service.http(0), 'cp-1', 100);
        expect(before.status, `before the partition, PUT /prices/cp-1 answered ${before.status || 'nothing'}`).toBe(200);
        expect(await lab.redis.get('price:cp-1'), 'a 200 price write must be in Redis (price:cp-1)').toBe('100');

        await fp.down();
        const during = await Promise.all([0, 1, 0, 1].map((i, k) => putPrice(service.http(i), `cp-${1 + (k % 2)}`, 900 + k)));
        evidence('slowest refusal during the partition', Math.max(...during.map((w) => w.ms)), { unit: 'ms' });
        expect(
          during.filter((w) => w.status !== 503).length,
          `in CP mode with Redis unreachable, 4 price writes answered: ${show(during)}. CP means refuse what cannot be made ` +
            'consistent: a 503 at once (fail fast: a client that cannot reach Redis must not queue the command), not a hang and not a 200',
        ).toBe(0);

        await fp.heal();
        let after: Write | undefined;
        await eventually(
          async () => {
            after = await putPrice(service.http(1), 'cp-3', 300);
            return after.status === 200;
          },
          { timeoutMs: 10_000, everyMs: 200 },
        ).catch(() => undefined);
        expect(after?.status, `10 s after the partition healed, price writes still answered ${after?.status || 'nothing'}`).toBe(200);
        await sleep(500);
        const [one, two] = await Promise.all([lab.redis.get('price:cp-1'), lab.redis.get('price:cp-2')]);
        expect(
          { 'price:cp-1': one, 'price:cp-2': two },
          `after the heal Redis holds price:cp-1 = ${one} and price:cp-2 = ${two}, but every write made during the partition was ` +
            'refused with 503. A refused write must never happen later: the caller was told it failed and may have retried ' +
            "elsewhere or given up. (A command left in the client's offline queue is sent on reconnect.)",
        ).toEqual({ 'price:cp-1': '100', 'price:cp-2': null });
      } finally {
        await service.close();
      }
    },
  );

  test(
    'when Redis is partitioned away in AP mode then price writes are accepted, and after the heal every one of them is applied, last write winning, even if the instance that took it died',
    points(3, { id: 'cap-ap', timeout: 60_000 }),
    async () => {
      const fp = await lab.faultPoint('redis');
      const service = await lab.startService({ instances: 2, redisUrl: fp.url, settings: { capMode: 'AP', reconcileEveryMs: 200 } });
      try {
        const before = await putPrice(service.http(0), 'ap-1', 100);
        expect(before.status, `before the partition, PUT /prices/ap-1 answered ${before.status || 'nothing'}`).toBe(200);

        await fp.down();
        const during: Write[] = [];
        // Instance 1 takes ap-1 = 110 and ap-2; instance 2 then takes ap-1 = 150 (the last write) and ap-3; instance 1 ap-4.
        for (const [i, sku, cents] of [
          [0, 'ap-1', 110],
          [0, 'ap-2', 200],
          [1, 'ap-1', 150],
          [1, 'ap-3', 300],
          [0, 'ap-4', 400],
        ] as const) {
          during.push(await putPrice(service.http(i), sku, cents));
          if (during.at(-1)!.status < 200 || during.at(-1)!.status > 299) break; // reported below
        }
        expect(
          during.filter((w) => w.status < 200 || w.status > 299).length,
          `in AP mode with Redis unreachable, price writes answered: ${show(during)}. AP means stay available: accept the write ` +
            '(202), keep it somewhere durable, and apply it when the partition heals',
        ).toBe(0);

        // The instance that accepted three of the five writes dies before the partition heals.
        await service.instances[0]!.kill('SIGKILL');
        await fp.heal();
        const expected = { 'price:ap-1': '150', 'price:ap-2': '200', 'price:ap-3': '300', 'price:ap-4': '400' };
        const read = async () => {
          const values = await lab.redis.mget(...Object.keys(expected));
          return Object.fromEntries(Object.keys(expected).map((k, i) => [k, values[i]]));
        };
        let seenValues: Record<string, string | null | undefined> = {};
        await eventually(
          async () => {
            seenValues = await read();
            return JSON.stringify(seenValues) === JSON.stringify(expected);
          },
          { timeoutMs: 10_000, everyMs: 200 },
        ).catch(() => undefined);
        const lost = Object.entries(expected).filter(([k, v]) => seenValues[k] !== v).length;
        evidence('accepted writes missing or wrong 10 s after the heal', lost, { of: 4 });
        expect(
          seenValues,
          `5 price writes were accepted during the partition (3 by the instance that was then killed); 10 s after the heal Redis ` +
            `holds ${JSON.stringify(seenValues)}. An accepted write is a promise: keep it durably (Postgres, not the process's memory ` +
            "or the Redis client's offline queue), replay what is pending once Redis answers again, in the order it was accepted, " +
            'so the last write (ap-1 = 150) wins',
        ).toEqual(expected);
        const now = await putPrice(service.http(1), 'ap-1', 175);
        const latest = await eventually(async () => (await lab.redis.get('price:ap-1')) === '175' && '175', {
          timeoutMs: 5_000,
          everyMs: 100,
        });
        await sleep(500); // nothing older replayed over it
        expect(
          { accepted: now.status >= 200 && now.status <= 299, value: latest && (await lab.redis.get('price:ap-1')) },
          `after reconciliation a new write (ap-1 = 175) answered ${now.status || 'nothing'} and Redis then held ` +
            `${await lab.redis.get('price:ap-1')}: it must be accepted, applied, and not overwritten by an older one replayed later`,
        ).toEqual({ accepted: true, value: '175' });
      } finally {
        await service.close();
      }
    },
  );
});
