/** The fault point against a local echo server: each fault does what Toxiproxy's does. */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FaultPoint } from '../faults.js';

let echo: net.Server;
let echoPort: number;

beforeAll(async () => {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(() => echo.close());

/** Connects, sends "ping", and reports what happened within ms. */
function ping(port: number, ms = 1_000): Promise<{ kind: 'echo' | 'silence' | 'refused' | 'reset'; after: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (kind: 'echo' | 'silence' | 'refused' | 'reset') => {
      clearTimeout(timer);
      s.destroy();
      resolve({ kind, after: Date.now() - t0 });
    };
    const timer = setTimeout(() => done('silence'), ms);
    s.on('connect', () => s.write('ping'));
    s.on('data', () => done('echo'));
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'reset'));
    s.on('close', () => done('reset'));
  });
}

describe('FaultPoint', () => {
  test('when healthy then bytes pass through both ways', async () => {
    const fp = await FaultPoint.open('127.0.0.1', echoPort);
    expect((await ping(fp.port)).kind).toBe('echo');
    expect(fp.urlFor('redis://10.0.0.9:6379/4')).toBe(`redis://127.0.0.1:${fp.port}/4`);
    await fp.close();
  });

  test('when latency is added then answers come later by about that much, both ways', async () => {
    const fp = await FaultPoint.open('127.0.0.1', echoPort);
    await fp.latency(150);
    const r = await ping(fp.port, 3_000);
    expect(r.kind).toBe('echo');
    expect(r.after).toBeGreaterThanOrEqual(290);
    await fp.close();
  });

  test('when blackholed (timeout) then the connection opens but nothing comes back', async () => {
    const fp = await FaultPoint.open('127.0.0.1', echoPort);
    await fp.timeout();
    expect((await ping(fp.port, 300)).kind).toBe('silence');
    await fp.heal();
    expect((await ping(fp.port)).kind).toBe('echo');
    await fp.close();
  });

  test('when refused then new connections fail and heal listens on the same port again', async () => {
    const fp = await FaultPoint.open('127.0.0.1', echoPort);
    const port = fp.port;
    await fp.refuse();
    expect((await ping(port)).kind).toBe('refused');
    await fp.heal();
    expect(fp.port).toBe(port);
    expect((await ping(port)).kind).toBe('echo');
    await fp.close();
  });

  test('when peers are reset then open connections die and new ones still work', async () => {
    const fp = await FaultPoint.open('127.0.0.1', echoPort);
    const s = net.connect(fp.port, '127.0.0.1');
    await new Promise((r) => s.on('connect', r));
    await new Promise((r) => setTimeout(r, 50));
    const closed = new Promise((r) => s.on('close', r));
    s.on('error', () => undefined);
    expect(fp.connections).toBe(1);
    await fp.resetPeer();
    await closed;
    expect((await ping(fp.port)).kind).toBe('echo');
    await fp.close();
  });

  test('when down then open connections die and new ones are refused', async () => {
    const fp = await FaultPoint.open('127.0.0.1', echoPort);
    await fp.down();
    expect((await ping(fp.port)).kind).toBe('refused');
    await fp.heal();
    expect((await ping(fp.port)).kind).toBe('echo');
    await fp.close();
  });
});

describe('FaultPoint latency', () => {
  test('when many chunks flow under latency then each is delayed once, in order, without throttling the stream', async () => {
    const fp = await FaultPoint.open('127.0.0.1', echoPort);
    await fp.latency(100);
    const s = net.connect(fp.port, '127.0.0.1');
    await new Promise((r) => s.on('connect', r));
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) {
      s.write(`${String(i).padStart(2, '0')};`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const want = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')};`).join('');
    while (got.length < want.length && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 10));
    expect(got).toBe(want);
    // 20 chunks, 200 ms each way: paced one by one that would take over 4 s.
    expect(Date.now() - t0).toBeLessThan(3_000);
    s.destroy();
    await fp.close();
  });
});

describe('a fault point on the sandbox side (ServiceSide)', () => {
  test('when the side allows only another address then a connection from this one is reset before a byte passes', async () => {
    const fp = await FaultPoint.open('127.0.0.1', echoPort, { host: '127.0.0.1', allow: ['10.255.255.254'] });
    try {
      expect((await ping(fp.port)).kind).toBe('reset');
      expect(fp.connections).toBe(0);
    } finally {
      await fp.close();
    }
  });

  test('when the side allows this address then the connection passes', async () => {
    const fp = await FaultPoint.open('127.0.0.1', echoPort, { host: '127.0.0.1', allow: ['127.0.0.1'] });
    try {
      expect((await ping(fp.port)).kind).toBe('echo');
    } finally {
      await fp.close();
    }
  });
});
