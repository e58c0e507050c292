import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, as the provider's docs describe them (and as we sign our own):
 *
 *   Webhook-Timestamp: 1767225600                  (Unix seconds, when the delivery was signed)
 *   Webhook-Signature: v1=<hex>                    (HMAC-SHA256 with the shared secret)
 *
 * where the HMAC is computed over `${timestamp}.${body}`, the body being the exact bytes sent.
 */
export function sign(secret: string, timestamp: number | string, body: string | Buffer): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Checks a provider delivery against every secret valid now (two during a rotation), over the raw
 * bytes received. The header may carry several `v1=` signatures, separated by spaces or commas.
 */
export function verifySignature(
  secrets: readonly string[],
  timestamp: string | undefined,
  raw: Buffer,
  header: string | undefined,
  toleranceSeconds: number,
  nowMs = Date.now(),
): Verdict {
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing or malformed Webhook-Timestamp' };
  const skew = Math.abs(nowMs / 1000 - Number(timestamp));
  if (skew > toleranceSeconds)
    return { ok: false, reason: `Webhook-Timestamp is ${Math.round(skew)} s from now, beyond the ${toleranceSeconds} s tolerance` };
  // Only well-formed signatures are compared: timingSafeEqual throws on buffers of unequal length.
  const given = (header ?? '')
    .split(/[\s,]+/)
    .map((part) => /^v1=([0-9a-f]{64})$/i.exec(part)?.[1])
    .filter((hex): hex is string => hex !== undefined)
    .map((hex) => Buffer.from(hex, 'hex'));
  if (!given.length) return { ok: false, reason: 'missing or malformed Webhook-Signature' };
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest();
    if (given.some((g) => timingSafeEqual(g, expected))) return { ok: true };
  }
  return { ok: false, reason: 'signature does not match' };
}
