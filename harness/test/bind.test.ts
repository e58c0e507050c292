/** How the harness reaches a container (bind.ts): its own address when routable, else the loopback port. */
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { onLoopback, reachable } from '../servers/bind.js';

describe('reaching a container', () => {
  test('when the container’s own address answers then the harness connects there, with no proxy in between', async () => {
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const info = { NetworkSettings: { Networks: { bridge: { IPAddress: '127.0.0.2' } } } };
      expect(await reachable(info, port, 40_001)).toEqual({ host: '127.0.0.2', port });
    } finally {
      server.close();
    }
  });

  test('when the container’s address cannot be reached (Docker Desktop) then the loopback port is used', async () => {
    const info = { NetworkSettings: { Networks: { bridge: { IPAddress: '192.0.2.1' } } } };
    expect(await reachable(info, 5432, 40_002)).toEqual({ host: '127.0.0.1', port: 40_002 });
  });

  test('when a container is set to publish its ports then they are bound to 127.0.0.1', () => {
    const c = { hostConfig: { PortBindings: { '5432/tcp': [{ HostPort: '0' }], '6379/tcp': [{ HostPort: '0' }] } } };
    expect(onLoopback(c).hostConfig.PortBindings).toEqual({
      '5432/tcp': [{ HostPort: '0', HostIp: '127.0.0.1' }],
      '6379/tcp': [{ HostPort: '0', HostIp: '127.0.0.1' }],
    });
  });
});
