/**
 * The background processes, each run as processes of their own apart from the API:
 * settings.service 'orders' is the orders service's outbox relay, 'shipping' is shipping's consumer.
 */
import { z } from 'zod';
import { startRelay } from './relay.js';
import { Settings } from './settings.js';
import { startShipping } from './shipping.js';

export interface WorkerConfig {
  databaseUrl: string;
  redisUrl?: string;
  settings?: Record<string, unknown>;
}

const Which = z.object({ service: z.enum(['orders', 'shipping']) });

export function createWorker(config: WorkerConfig): { close(): Promise<void> } {
  const { service } = Which.parse(config.settings ?? {});
  const settings = Settings.parse(config.settings ?? {});
  const redisUrl = config.redisUrl ?? 'redis://127.0.0.1:6379';
  if (service === 'shipping') return startShipping(config.databaseUrl, redisUrl, settings);
  // The orders service's own process: the outbox relay.
  return startRelay(config.databaseUrl, redisUrl, settings);
}
