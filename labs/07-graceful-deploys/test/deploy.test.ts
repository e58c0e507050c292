/**
 * Rolling deploys under steady traffic. A readiness-aware router (lab.router(), what the load
 * balancer does) sends traffic to the instances whose GET /ready answers 200. A deploy replaces the
 * instances one at a time, as an orchestrator does: start the new one, wait until the router sees
 * it ready, send the old one SIGTERM, and SIGKILL it if it is still running GRACE_MS later.
 *
 * One drill serves four tests: blue (2 instances) → green → back to blue (the rollback), with
 * traffic at TRAFFIC_RATE requests/s throughout, every fifth a slow report.
 */
import { describe, expect, test } from 'vitest';
import {
  points,
  sleep,
  steadyTraffic,
  useLab,
  type ExitStatus,
  type Instance,
  type Router,
  type Service,
  type TrafficOutcome,
} from '../../../harness/testing/index.js';

const lab = useLab({ instances: 0 });

/**
 * The orchestrator's terminationGracePeriod: SIGKILL this long after SIGTERM. Measured during a
 * whole `lab verify`: correct fixes exit 1.2–1.8 s after SIGTERM (drainDelayMs, then the slow
 * reports in flight); server.close() alone is still waiting for kept-alive connections (65 s) and is
 * SIGKILLed here, every time.
 */
const GRACE_MS = 5_000;
/** How the router probes /ready: every 100 ms (the service's drainDelayMs, 1 s, is ten of these), out after 2 failures in a row. */
const ROUTER = { probeEveryMs: 100, probeTimeoutMs: 2_000, failureThreshold: 2 };
const TRAFFIC_RATE = 25;
const SLOW_MS = 1_500;

interface Kill {
  version: string;
  status: ExitStatus;
  /** The slow report sent straight to the instance just before its SIGTERM: it must complete. */
  inFlight: { status: number; error?: string };
}

interface Drill {
  /** The router's traffic, by the deploy during which each request ended. */
  toGreen: TrafficOutcome[];
  toBlue: TrafficOutcome[];
  kills: Kill[];
  abandoned: number;
  summary: (o: TrafficOutcome[]) => string;
}

let drill: Promise<Drill> | undefined;

/** Replaces each of `old` by a fresh instance of `version`, one at a time; returns the new instances and how each old one ended. */
async function rollOut(router: Router, old: Instance[], version: string, services: Service[]): Promise<{ now: Instance[]; kills: Kill[] }> {
  const now: Instance[] = [];
  const kills: Kill[] = [];
  for (const inst of old) {
    const s = await lab.startService({ instances: 1, settings: { version, slowMs: SLOW_MS } });
    services.push(s);
    const fresh = s.instances[0]!;
    router.add(fresh);
    if (!(await router.waitReady(fresh, 10_000)))
      throw new Error(`the new ${version} instance never answered GET /ready with 200 within 10 s: ${fresh.logs().slice(-500)}`);
    now.push(fresh);
    // A report in flight on the instance when its SIGTERM comes, every time (the steady traffic's
    // own reports are in flight at random).
    const report = inst.http.get('/report', { timeoutMs: 15_000 }).then(
      (r) => ({ status: r.status }),
      (e: Error) => ({ status: 0, error: e.message }),
    );
    await sleep(300);
    const status = await inst.kill('SIGTERM', { waitMs: GRACE_MS });
    kills.push({ version: version === 'green' ? 'blue' : 'green', status, inFlight: await report });
    router.remove(inst);
  }
  return { now, kills };
}

function deployDrill(): Promise<Drill> {
  drill ??= (async () => {
    const services: Service[] = [];
    const router = await lab.router(ROUTER);
    const blue = await lab.startService({ instances: 2, settings: { version: 'blue', slowMs: SLOW_MS } });
    services.push(blue);
    for (const i of blue.instances) router.add(i);
    for (const i of blue.instances) if (!(await router.waitReady(i, 10_000))) throw new Error('a blue instance never became ready');
    // Warm the pools: every instance holds open Postgres sessions when its deploy comes.
    await Promise.all(Array.from({ length: 8 }, () => router.http.get('/quote')));
    const before = await lab.stats.database();

    const traffic = steadyTraffic(router.http, {
      rate: TRAFFIC_RATE,
      durationMs: 60_000,
      timeoutMs: 15_000,
      request: (i) => ({ path: i % 5 === 4 ? '/report' : '/quote' }),
    });
    const trafficStart = performance.now();
    await sleep(1_000);
    const first = await rollOut(router, blue.instances, 'green', services);
    await sleep(1_000);
    // A request belongs to the deploy during which it ended: a report a kill cuts short counts
    // against that kill's deploy.
    const switchAt = performance.now() - trafficStart;
    const back = await rollOut(router, first.now, 'blue', services);
    await sleep(1_000);
    traffic.stop();
    const rep = await traffic.done;
    for (const s of services) await s.close().catch(() => undefined);
    await lab.stats.settle();
    const after = await lab.stats.database();
    const outcomes = rep.outcomes;
    const endedBy = (o: TrafficOutcome) => o.sentMs + o.ms < switchAt;
    return {
      toGreen: outcomes.filter((o) => endedBy(o)),
      toBlue: outcomes.filter((o) => !endedBy(o)),
      kills: [...first.kills, ...back.kills],
      abandoned: after.sessionsAbandoned - before.sessionsAbandoned,
      summary: (o) => {
        const failed = o.filter((x) => x.status !== 200);
        const slow = o.filter((x) => x.i % 5 === 4);
        const slowFailed = slow.filter((x) => x.status !== 200).length;
        const why = new Map<string, number>();
        for (const f of failed) {
          const k = f.status
            ? `HTTP ${f.status}${f.response?.body?.error ? ` (${String(f.response.body.error).slice(0, 80)})` : ''}`
            : (f.error ?? 'no answer');
          why.set(k, (why.get(k) ?? 0) + 1);
        }
        return (
          `${failed.length} of ${o.length} requests failed (${slowFailed} of ${slow.length} slow reports)` +
          (why.size ? `: ${[...why].map(([k, n]) => `${n} × ${k}`).join('; ')}` : '')
        );
      },
    };
  })();
  return drill;
}

const inFlightText = (kills: Kill[]) =>
  kills.map((k) => (k.inFlight.status ? `HTTP ${k.inFlight.status}` : (k.inFlight.error ?? 'no answer'))).join(', ');

const failuresAdvice =
  'On SIGTERM an instance must keep serving until the router has stopped sending to it: answer 503 on /ready at ' +
  'once, keep serving for drainDelayMs, then stop listening and let the requests in flight finish. Exiting at once ' +
  'drops the slow reports in flight and resets the connections the router keeps alive.';

describe('rolling deploys under traffic', () => {
  test(
    'when blue instances are replaced by green ones one at a time under steady traffic then no request fails and the slow ones in flight complete',
    points(3, { id: 'rolling-deploy', timeout: 120_000 }),
    async () => {
      const d = await deployDrill();
      expect(d.toGreen.filter((o) => o.status !== 200).length, `deploying green: ${d.summary(d.toGreen)}. ${failuresAdvice}`).toBe(0);
      expect(
        d.kills.slice(0, 2).map((k) => k.inFlight),
        `a slow report sent to each blue instance 300 ms before its SIGTERM got: ${inFlightText(d.kills.slice(0, 2))}. ${failuresAdvice}`,
      ).toEqual([{ status: 200 }, { status: 200 }]);
      const last = d.toGreen.slice(-TRAFFIC_RATE / 2).map((o) => o.response?.body?.version);
      expect(new Set(last), 'after the deploy every answer should come from green').toEqual(new Set(['green']));
    },
  );

  test(
    'when the deploy is rolled back to blue then it is just as clean: no request fails',
    points(2, { id: 'rollback', timeout: 120_000 }),
    async () => {
      const d = await deployDrill();
      expect(d.toBlue.filter((o) => o.status !== 200).length, `rolling back to blue: ${d.summary(d.toBlue)}. ${failuresAdvice}`).toBe(0);
      expect(
        d.kills.slice(2).map((k) => k.inFlight),
        `a slow report sent to each green instance 300 ms before its SIGTERM got: ${inFlightText(d.kills.slice(2))}. ${failuresAdvice}`,
      ).toEqual([{ status: 200 }, { status: 200 }]);
    },
  );

  test(
    `when an instance is sent SIGTERM then it exits by itself, with code 0, within the grace period (${GRACE_MS / 1000} s)`,
    points(2, { id: 'exit-in-grace', timeout: 120_000 }),
    async () => {
      const d = await deployDrill();
      const bad = d.kills.filter((k) => k.status.forced || k.status.code !== 0);
      expect(
        bad.map((k) => ({ version: k.version, ...k.status })),
        `after SIGTERM: ${d.kills.map((k) => `${k.version} ${k.status.forced ? `still running after ${GRACE_MS} ms, SIGKILLed` : k.status.signal ? `ended by ${k.status.signal}` : `exit ${k.status.code}`} (${k.status.ms} ms)`).join('; ')}. ` +
          'A process the orchestrator has to SIGKILL loses whatever it was doing. server.close() waits for every open ' +
          'connection, and a kept-alive one stays open, even serving new requests, until it idles out: close the idle ' +
          'ones (server.closeIdleConnections()) and answer the busy ones with Connection: close.',
      ).toEqual([]);
    },
  );

  test(
    'when an instance shuts down then it closes its database pool: Postgres counts no abandoned session',
    points(2, { id: 'pool-closed', timeout: 120_000 }),
    async () => {
      const d = await deployDrill();
      expect(
        d.abandoned,
        `pg_stat_database.sessions_abandoned rose by ${d.abandoned} during the deploys: that many sessions ended because ` +
          'their client vanished without closing them (Postgres logs "unexpected EOF on client connection" for each). ' +
          'End the pool (await pool.end()) once the last request has answered, then exit.',
      ).toBe(0);
    },
  );
});
