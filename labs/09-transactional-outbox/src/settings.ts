import { z } from 'zod';

/** What the orders API and the background processes are configured with (lab.json "settings"; the tests override some). */
export const Settings = z.object({
  /** The Redis Stream the orders service publishes its events to, and shipping reads. */
  stream: z.string().min(1).default('orders.events'),
  /** Shipping's consumer group on that stream. */
  group: z.string().min(1).default('shipping'),
  /** How long the orders service waits for one Redis command before it gives up (so a Redis outage never hangs an order). */
  redisTimeoutMs: z.number().int().positive().default(500),
  /** How often a background loop with nothing to do looks again. */
  pollMs: z.number().int().positive().default(50),
  /** How long shipping blocks on the stream waiting for new events (XREADGROUP BLOCK). */
  blockMs: z.number().int().positive().default(200),
  /** An event a consumer read but never acknowledged is taken over by another consumer once it has been idle this long (XAUTOCLAIM). */
  claimIdleMs: z.number().int().positive().default(5_000),
  /** How long booking one shipment with the carrier takes (shipping does it for every order.placed). */
  bookingMs: z.number().int().min(0).default(0),
  /**
   * The team's promise: once the orders service has committed an order, shipping reflects it within
   * this bound (after Redis or a process comes back). The tests hold the service to it.
   */
  convergenceBoundMs: z.number().int().positive().default(10_000),
});
export type Settings = z.infer<typeof Settings>;
