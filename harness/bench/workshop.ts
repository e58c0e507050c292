/**
 * The workshop server under a room's load, on loopback: N attendees each post a report every
 * `everyMs` for `forMs` (200, 5 s, 60 s by default: 40 reports a second), each report its own HTTP
 * request, as an attendee's `lab` sends them, while one scoreboard page follows the live stream. Measures the latency of each report and checks that
 * every report the server acknowledged is stored, and once. Printed by `npm run bench`, never asserted.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pgUrl, startServices } from '../servers/containers.js';
import type { Report } from '../workshop/protocol.js';
import { DEFAULT_LIMITS } from '../workshop/rate-limit.js';
import { startWorkshopServer } from '../workshop/server.js';

export interface WorkshopLoad {
  attendees: number;
  sent: number;
  acknowledged: number;
  failed: number;
  stored: number;
  lost: number;
  /** Bytes the one scoreboard viewer received over the live stream. */
  streamed: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN;

export async function workshopLoad({ attendees = 200, everyMs = 5_000, forMs = 60_000 } = {}): Promise<WorkshopLoad> {
  const services = await startServices(['postgres']);
  const databaseUrl = pgUrl(services.endpoints.postgres!);
  // Every simulated attendee is on 127.0.0.1, so the per-address join limit is raised; the
  // per-attendee report limit and the per-address request limit are the defaults.
  const server = await startWorkshopServer({
    databaseUrl,
    host: '127.0.0.1',
    port: 0,
    limits: { ...DEFAULT_LIMITS, joins: { capacity: attendees, perSecond: 100 } },
  });
  const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const tokens: string[] = [];
    for (let i = 0; i < attendees; i++) {
      const r = await fetch(`${server.url}/api/join`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: `Load ${i}` }),
      });
      if (r.status !== 201) throw new Error(`join ${i}: HTTP ${r.status} ${await r.text()}`);
      tokens.push(((await r.json()) as { token: string }).token);
    }
    // The projector: one scoreboard page on the live stream the whole time.
    const viewer = new AbortController();
    let streamed = 0;
    const watching = fetch(`${server.url}/api/events`, { signal: viewer.signal }).then(
      async (r) => {
        for await (const chunk of r.body!) streamed += (chunk as Uint8Array).length;
      },
      () => undefined,
    );
    const latencies: number[] = [];
    const acknowledged = new Set<string>();
    let sent = 0;
    let failed = 0;
    const end = Date.now() + forMs;
    const labs = ['deadlocks', 'idempotency', 'caching'];
    await Promise.all(
      tokens.map(async (token, i) => {
        // Spread the attendees over the interval, as a room would be.
        await new Promise((r) => setTimeout(r, (i * everyMs) / attendees));
        for (let n = 0; Date.now() < end; n++) {
          const due = Date.now() + everyMs;
          const report: Report = {
            kind: 'test',
            id: randomUUID(),
            at: new Date().toISOString(),
            lab: labs[n % labs.length]!,
            passed: n % 5,
            total: 5,
            points: n % 5,
            maxPoints: 9,
            hintsUsed: 0,
            hintsTotal: 3,
            failing: n % 5 === 4 ? null : 'when two instances race then only one wins',
            tests: Array.from({ length: 5 }, (_, k) => ({ id: `t${k}`, status: k < n % 5 ? 'passed' : 'failed', points: 1, tier: 'core' })),
          };
          if (report.passed === report.total) report.failing = null;
          sent++;
          const t0 = performance.now();
          try {
            const r = await fetch(`${server.url}/api/reports`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
              body: JSON.stringify({ reports: [report] }),
              signal: AbortSignal.timeout(10_000),
            });
            await r.arrayBuffer();
            if (r.status === 200) acknowledged.add(report.id);
            else failed++;
          } catch {
            failed++;
          }
          latencies.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
        }
      }),
    );
    viewer.abort();
    await watching.catch(() => undefined);
    const { rows } = await db.query('SELECT id FROM reports');
    const stored = new Set(rows.map((r) => r.id as string));
    const lost = [...acknowledged].filter((id) => !stored.has(id)).length;
    return {
      attendees,
      sent,
      acknowledged: acknowledged.size,
      failed,
      stored: rows.length,
      lost,
      streamed,
      p50: pct(latencies, 50),
      p95: pct(latencies, 95),
      p99: pct(latencies, 99),
      max: Math.max(...latencies),
    };
  } finally {
    await db.end();
    await server.close();
    await services.stop();
  }
}
