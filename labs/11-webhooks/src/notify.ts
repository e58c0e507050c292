import { sign } from './signature.js';

export interface Subscriber {
  url: string;
  secret: string;
}

/**
 * Tells our subscriber about an event: POST to its URL, signed like the provider signs ours.
 *
 * TODO: fire and forget. If the subscriber is down, slow or answers 500, the event is lost: no
 * retry, no record of it, nothing to replay once the subscriber is back.
 */
export function notify(subscriber: Subscriber, event: { id: string }): void {
  const body = JSON.stringify(event);
  const timestamp = Math.floor(Date.now() / 1000);
  fetch(subscriber.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign(subscriber.secret, timestamp, body),
    },
    body,
  }).catch((err: Error) => console.error('webhook to subscriber failed', err.message));
}
