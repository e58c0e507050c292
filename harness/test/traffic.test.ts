/** steadyTraffic(): an open-model generator against a real local server (node:http on 127.0.0.1). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpClient } from '../testing/http.js';
import { isLocalTarget, quantile, steadyTraffic } from '../testing/traffic.js';

let server: Server;
let client: HttpClient;
let seen = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen++;
    const n = Number(new URL(req.url!, 'http://x').searchParams.get('n'));
    if (req.url!.startsWith('/hang')) return; // never answers
    if (n % 10 === 9) {
      res.statusCode = 503;
      return res.end('busy');
    }
    setTimeout(() => res.end('ok'), 5);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  client = new HttpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(() => r(undefined)));
});

describe('steadyTraffic', () => {
  test('when it runs at 200/s for 1 s then it sends 200 requests on schedule and records each outcome and latency', async () => {
    const before = seen;
    const t = steadyTraffic(client, { rate: 200, durationMs: 1_000, request: (i) => ({ path: `/ok?n=${i}` }) });
    const rep = await t.done;
    expect(rep.outcomes).toHaveLength(200);
    expect(seen - before).toBe(200);
    expect(rep.outcomes.map((o) => o.i)).toEqual([...Array(200).keys()]);
    // Request i is due at i × 5 ms, and never sent before that.
    for (const o of rep.outcomes) {
      expect(o.dueMs).toBeCloseTo(o.i * 5, 6);
      expect(o.sentMs).toBeGreaterThanOrEqual(o.dueMs - 1);
    }
    expect(rep.failures().map((o) => o.i)).toEqual(rep.outcomes.filter((o) => o.i % 10 === 9).map((o) => o.i));
    expect(rep.failures().every((o) => o.status === 503)).toBe(true);
    expect(rep.outcomes.filter((o) => o.status === 200).every((o) => o.ms >= 4)).toBe(true);
    expect(rep.latency(0.5)).toBeGreaterThanOrEqual(4);
    expect(rep.summary()).toMatch(
      /^20 of 200 requests failed \(20 × HTTP 503\) over 1\.\d s at \d+\/s; p50 \d+ ms, p99 \d+ ms, max \d+ ms$/,
    );
  });

  test('when stop() is called then no further request is sent and the report covers what was sent', async () => {
    const t = steadyTraffic(client, { rate: 100, durationMs: 10_000, request: () => ({ path: '/ok?n=0' }) });
    await new Promise((r) => setTimeout(r, 300));
    t.stop();
    const rep = await t.done;
    expect(rep.outcomes.length).toBeGreaterThan(10);
    expect(rep.outcomes.length).toBeLessThan(60);
  });

  test('when the target does not answer then requests time out as failures, and past maxInFlight they are dropped, not queued', async () => {
    const t = steadyTraffic(client, { rate: 100, durationMs: 200, timeoutMs: 300, maxInFlight: 5, request: () => ({ path: '/hang' }) });
    const rep = await t.done;
    expect(rep.outcomes).toHaveLength(20);
    expect(rep.outcomes.filter((o) => o.dropped)).toHaveLength(15);
    expect(rep.outcomes.filter((o) => !o.dropped).every((o) => o.status === 0 && /did not answer within 300 ms/.test(o.error!))).toBe(true);
    expect(rep.summary()).toMatch(/20 of 20 requests failed \(15 × dropped \(too many in flight\), 5 × no answer \(time-out\)\)/);
  });

  test('when targets are a list or a function then requests go where they say', async () => {
    const other = new HttpClient(client.baseUrl.replace('127.0.0.1', 'localhost'));
    const rep = await steadyTraffic([client, other], { rate: 100, durationMs: 100, request: () => ({ path: '/ok?n=0' }) }).done;
    expect(rep.outcomes.map((o) => o.target)).toEqual(rep.outcomes.map((o) => (o.i % 2 ? other.baseUrl : client.baseUrl)));
    const byFn = await steadyTraffic((i) => (i < 3 ? client : other), { rate: 100, durationMs: 100, request: () => ({ path: '/ok?n=0' }) })
      .done;
    expect(byFn.outcomes.map((o) => o.target)).toEqual(byFn.outcomes.map((o) => (o.i < 3 ? client.baseUrl : other.baseUrl)));
  });

  test('when asked for more than its bounds or a target off loopback then it refuses in one line', async () => {
    expect(() => steadyTraffic(client, { rate: 5_000, durationMs: 100 })).toThrow(/rate must be in \(0, 2000\]/);
    expect(() => steadyTraffic(client, { rate: 10, durationMs: 600_000 })).toThrow(/durationMs must be in \(0, 120000\]/);
    expect(() => steadyTraffic(new HttpClient('http://10.1.2.3:80'), { rate: 10, durationMs: 100 })).toThrow(
      /this machine's instances only/,
    );
    const fn = steadyTraffic(() => new HttpClient('http://example.com'), { rate: 10, durationMs: 100 });
    await expect(fn.done).rejects.toThrow(/this machine.s instances only, not to http:\/\/example.com/);
    expect(isLocalTarget('http://127.0.0.1:3000')).toBe(true);
    expect(isLocalTarget('http://[::1]:3000')).toBe(true);
    expect(isLocalTarget('http://192.168.1.1')).toBe(false);
  });

  test('quantiles are nearest-rank', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
