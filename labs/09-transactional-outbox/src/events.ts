/**
 * The events the orders service publishes and shipping consumes. On the stream, each entry holds
 * the fields `type` and `data` (the payload as JSON); shipping reads nothing else.
 */
import type { Redis } from 'ioredis';

export type EventType = 'order.placed' | 'order.cancelled';

export interface OrderEvent {
  type: EventType;
  orderId: number;
  sku: string;
  quantity: number;
}

/** XADDs one event to the stream. */
export async function publish(redis: Redis, stream: string, event: OrderEvent): Promise<string> {
  const { type, ...data } = event;
  const id = await redis.xadd(stream, '*', 'type', type, 'data', JSON.stringify(data));
  return id!;
}

/** Reads an entry's fields back into an event. */
export function parseEntry(fields: string[]): OrderEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  const data = JSON.parse(f.data ?? '{}');
  return { ...data, type: f.type as EventType };
}
