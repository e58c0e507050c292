/** The tests' HTTP client, against a server on loopback. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpClient, HttpTimeoutError, ResponseHeaders } from '../testing/http.js';

let server: Server;
let base: string;
const remotePorts = new Set<number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    remotePorts.add(req.socket.remotePort!);
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000);
      res.setHeader('content-type', 'application/json');
      res.setHeader('set-cookie', ['a=1; HttpOnly', 'b=2']);
      res.setHeader('X-Twice', ['one', 'two']);
      res.end(JSON.stringify({ method: req.method, url: req.url, type: req.headers['content-type'] ?? null, body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe('HttpClient', () => {
  test('when JSON is posted then the server gets it with its content type and the answer is parsed', async () => {
    const r = await new HttpClient(base).post('/things?x=1', { a: 1 }, { headers: { 'X-Api-Key': 'k' } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ method: 'POST', url: '/things?x=1', type: 'application/json', body: '{"a":1}' });
    expect(r.ms).toBeGreaterThan(0);
  });

  test('when a response repeats a header then get() joins it and Set-Cookie stays a list', async () => {
    const r = await new HttpClient(base).get('/');
    expect(r.headers.get('x-twice')).toBe('one, two');
    expect(r.headers.get('X-TWICE')).toBe('one, two');
    expect(r.headers.has('Content-Type')).toBe(true);
    expect(r.headers.get('retry-after')).toBeNull();
    expect(r.headers.getSetCookie()).toEqual(['a=1; HttpOnly', 'b=2']);
    expect(new ResponseHeaders(['A', '1', 'b', '2']).keys().next().value).toBe('a');
  });

  test('when requests follow one another then they reuse one connection', async () => {
    remotePorts.clear();
    const c = new HttpClient(base);
    for (let i = 0; i < 5; i++) await c.get('/');
    expect(remotePorts.size).toBe(1);
  });

  test('when the server does not answer in time then the request fails with a timeout that says so', async () => {
    await expect(new HttpClient(base).get('/slow', { timeoutMs: 200 })).rejects.toThrow(HttpTimeoutError);
    await expect(new HttpClient(base).get('/slow', { timeoutMs: 200 })).rejects.toThrow(/did not answer within 200 ms/);
  });

  test('when nothing listens then the request fails with the reason', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await expect(new HttpClient(`http://127.0.0.1:${port}`).get('/x')).rejects.toThrow(
      'GET /x failed: ECONNREFUSED (did the service crash?)',
    );
  });
});
