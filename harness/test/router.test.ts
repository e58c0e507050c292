/** The readiness-aware router, in front of real local servers whose readiness the tests switch. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { Router } from '../testing/router.js';

interface Fake {
  url: string;
  ready: boolean;
  /** Answer /work by destroying the socket (a process dying mid-request). */
  drop: boolean;
  hits: number;
  server: Server;
}

const fakes: Fake[] = [];
const routers: Router[] = [];

async function fake(name: string, ready = true): Promise<Fake> {
  const f = { ready, drop: false, hits: 0 } as Fake;
  f.server = createServer((req, res) => {
    if (req.url === '/ready') {
      res.statusCode = f.ready ? 200 : 503;
      return res.end();
    }
    f.hits++;
    if (f.drop) return req.socket.destroy();
    res.end(name);
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', () => r()));
  f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
  fakes.push(f);
  return f;
}

async function router(): Promise<Router> {
  const r = await Router.open({ probeEveryMs: 20 });
  routers.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
  for (const f of fakes.splice(0)) {
    f.server.closeAllConnections();
    f.server.close();
  }
});

describe('Router', () => {
  test('when backends are ready then requests go round-robin, and the answer names the backend', async () => {
    const [a, b] = [await fake('a'), await fake('b')];
    const r = await router();
    r.add(a);
    r.add(b);
    expect(await r.waitReady(a)).toBe(true);
    expect(await r.waitReady(b)).toBe(true);
    const texts = [];
    for (let i = 0; i < 6; i++) texts.push((await r.http.get('/work')).text);
    expect(texts.sort()).toEqual(['a', 'a', 'a', 'b', 'b', 'b']);
    expect(r.list().map((x) => x.served)).toEqual([3, 3]);
    expect((await r.http.get('/work')).headers.get('x-lab-backend')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('when a backend is not ready then it gets no requests until its probe answers 200', async () => {
    const [a, b] = [await fake('a'), await fake('b', false)];
    const r = await router();
    r.add(a);
    r.add(b);
    await r.waitReady(a);
    await new Promise((res) => setTimeout(res, 100));
    for (let i = 0; i < 4; i++) expect((await r.http.get('/work')).text).toBe('a');
    expect(b.hits).toBe(0);
    b.ready = true;
    expect(await r.waitReady(b, 2_000)).toBe(true);
    a.ready = false;
    const until = performance.now() + 2_000;
    while (r.backend(a)!.ready && performance.now() < until) await new Promise((res) => setTimeout(res, 10));
    for (let i = 0; i < 4; i++) expect((await r.http.get('/work')).text).toBe('b');
    expect(r.transitions.map((t) => [t.url === a.url ? 'a' : 'b', t.ready, t.saw])).toEqual([
      ['a', true, '200'],
      ['b', true, '200'],
      ['a', false, '503'],
    ]);
  });

  test('when no backend is ready then the router answers 503, and a dropped request is a 502 naming the backend', async () => {
    const r = await router();
    expect((await r.http.get('/work')).status).toBe(503);
    const a = await fake('a');
    r.add(a);
    await r.waitReady(a);
    a.drop = true;
    const res = await r.http.get('/work');
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(new RegExp(`instance ${a.url} dropped the request: ECONNRESET|socket hang up`));
    expect(r.backend(a)).toMatchObject({ served: 1, failed: 1 });
  });

  test('when a failure threshold is set then one failed probe does not take a ready backend out, and enough in a row do', async () => {
    const a = await fake('a');
    const r = await Router.open({ probeEveryMs: 20, failureThreshold: 3 });
    routers.push(r);
    r.add(a);
    await r.waitReady(a);
    a.ready = false;
    await new Promise((res) => setTimeout(res, 30));
    a.ready = true;
    await new Promise((res) => setTimeout(res, 100));
    expect(r.transitions.map((t) => t.ready)).toEqual([true]);
    a.ready = false;
    const until = performance.now() + 2_000;
    while (r.backend(a)!.ready && performance.now() < until) await new Promise((res) => setTimeout(res, 10));
    expect(r.backend(a)).toMatchObject({ ready: false });
    expect(r.backend(a)!.probeFailures).toBeGreaterThanOrEqual(3);
  });

  test('when a backend is removed or stops answering then it gets no more requests', async () => {
    const [a, b] = [await fake('a'), await fake('b')];
    const r = await router();
    r.add(a);
    r.add(b);
    await r.waitReady(a);
    await r.waitReady(b);
    r.remove(a);
    for (let i = 0; i < 4; i++) expect((await r.http.get('/work')).text).toBe('b');
    b.server.closeAllConnections();
    await new Promise((res) => b.server.close(res));
    const until = performance.now() + 2_000;
    while (r.backend(b)!.ready && performance.now() < until) await new Promise((res) => setTimeout(res, 10));
    expect(r.backend(b)!.ready).toBe(false);
    expect(r.transitions.at(-1)).toMatchObject({ url: b.url, ready: false, saw: 'ECONNREFUSED' });
    expect(() => r.add('http://10.0.0.1:80')).toThrow(/this machine's instances only/);
  });
});
