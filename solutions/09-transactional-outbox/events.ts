/**
 * The events the orders service publishes and shipping consumes. On the stream, each entry holds
 * the fields `id` (the event's id, the same in every copy of it), `type` and `data` (the payload as
 * JSON, with the order's version: 1 when placed, 2 once cancelled).
 */
export type EventType = 'order.placed' | 'order.cancelled';

export interface OrderEvent {
  id: string;
  type: EventType;
  orderId: number;
  sku: string;
  quantity: number;
  version: number;
}

/** The fields of an event's stream entry, for XADD. */
export function entryFields(event: OrderEvent): string[] {
  const { id, type, ...data } = event;
  return ['id', id, 'type', type, 'data', JSON.stringify(data)];
}

/** Reads an entry's fields back into an event. */
export function parseEntry(fields: string[]): OrderEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  const data = JSON.parse(f.data ?? '{}');
  return { ...data, id: f.id, type: f.type as EventType };
}
