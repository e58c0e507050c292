/**
 * What /ready says, and when. The router (lab.router(), the load balancer) acts on /ready alone, so
 * an instance going away must say so there before it stops listening, and a new instance that
 * cannot do its work must never say it is ready.
 */
import { describe, expect, test } from 'vitest';
import { bonus, HttpClient, points, sleep, steadyTraffic, useLab } from '../../../harness/testing/index.js';

const lab = useLab({ instances: 0 });

/** The contract's drainDelayMs: how long /ready must answer 503 before the listener closes. */
const DRAIN_DELAY_MS = 1_000;
/**
 * The least time /ready must be seen answering 503 before connections are refused: several of the
 * router's probes (100 ms apart). Measured during a whole `lab verify`: correct fixes 760–1020 ms;
 * closing the listener first shows no 503 at all.
 */
const MIN_NOT_READY_MS = 400;

describe('readiness', () => {
  test(
    'when an instance is sent SIGTERM then /ready answers 503 before the listener closes, long enough for the router to notice',
    points(2, { id: 'ready-before-close', timeout: 60_000 }),
    async () => {
      const s = await lab.startService({ instances: 1, settings: { version: 'blue', drainDelayMs: DRAIN_DELAY_MS } });
      const inst = s.instances[0]!;
      // A fresh connection per probe, as a load balancer's health checker opens: a refused one means the listener is closed.
      const probe = new HttpClient(inst.url);
      const seen: { at: number; what: string }[] = [];
      const killed = inst.kill('SIGTERM', { waitMs: 10_000 });
      const t0 = performance.now();
      while (performance.now() - t0 < 8_000) {
        const what = await probe.get('/ready', { timeoutMs: 1_000, headers: { connection: 'close' } }).then(
          (r) => String(r.status),
          (e: Error) => (/ECONNREFUSED/.test(e.message) ? 'refused' : 'error'),
        );
        seen.push({ at: performance.now() - t0, what });
        if (what === 'refused') break;
        await sleep(20);
      }
      await killed;
      const first503 = seen.find((x) => x.what === '503');
      const refused = seen.find((x) => x.what === 'refused');
      const timeline = seen
        .filter((x, i) => i === 0 || x.what !== seen[i - 1]!.what)
        .map((x) => `${x.what} at ${Math.round(x.at)} ms`)
        .join(', ');
      expect(
        first503,
        `after SIGTERM, /ready answered: ${timeline}. It never said 503, so the router kept sending requests until connections were refused.`,
      ).toBeDefined();
      const notReadyMs = (refused?.at ?? seen.at(-1)!.at) - first503!.at;
      expect(
        notReadyMs,
        `after SIGTERM, /ready answered: ${timeline}. It said 503 for ${Math.round(notReadyMs)} ms before the listener closed; ` +
          `the router probes every 100 ms, so it needs several of those (drainDelayMs is ${DRAIN_DELAY_MS} ms) to stop sending before the listener goes.`,
      ).toBeGreaterThanOrEqual(MIN_NOT_READY_MS);
    },
  );

  test(
    'bonus: when the new version cannot reach its database then it never reports ready, and the router never sends it a request',
    bonus(2, { id: 'bad-config', timeout: 60_000 }),
    async () => {
      // Out after 2 failed probes in a row: one slow probe on a busy machine must not empty the router.
      const router = await lab.router({ probeEveryMs: 100, probeTimeoutMs: 2_000, failureThreshold: 2 });
      const blue = await lab.startService({ instances: 1, settings: { version: 'blue' } });
      router.add(blue.instances[0]!);
      expect(await router.waitReady(blue.instances[0]!, 10_000), 'the healthy blue instance never became ready').toBe(true);
      // A bad config: the new version's database URL names a port where nothing listens.
      const broken = new URL(lab.databaseUrl);
      broken.hostname = '127.0.0.1';
      broken.port = '1';
      const green = await lab.startService({ instances: 1, settings: { version: 'green' }, databaseUrl: broken.toString() });
      const traffic = steadyTraffic(router.http, { rate: 20, durationMs: 3_000, request: () => ({ path: '/quote' }) });
      router.add(green.instances[0]!);
      const becameReady = await router.waitReady(green.instances[0]!, 2_500);
      const rep = await traffic.done;
      const g = router.backend(green.instances[0]!)!;
      expect(
        { readyOnce: becameReady, sentToGreen: g.served, failed: rep.failures().length },
        `the green instance, whose database is unreachable, ${becameReady ? 'answered GET /ready with 200' : 'never said ready'}; ` +
          `the router sent it ${g.served} request(s); ${rep.summary()}. Readiness must check what the instance needs to serve ` +
          '(a SELECT 1 with a short time-out), or a deploy with a bad config takes traffic and fails it.',
      ).toEqual({ readyOnce: false, sentToGreen: 0, failed: 0 });
    },
  );
});
