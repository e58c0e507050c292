/**
 * listenForService(): for a server a lab's tests run for the service to call (a payment provider,
 * a webhook receiver). It listens where this file's service instances can reach it: 127.0.0.1, or
 * in a grading sandbox the host's address on the sandbox's network, taking connections from that
 * sandbox only.
 */
import type { Server } from 'node:net';
import { guardConnections } from '../faults.js';
import { serviceSide } from './context.js';

/** Listens on a free port; resolves with the base URL (http://host:port) to hand the service. */
export async function listenForService(server: Server): Promise<string> {
  const side = serviceSide();
  guardConnections(server, side);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, side.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('listenForService: the server has no TCP address');
  return `http://${side.host}:${addr.port}`;
}
