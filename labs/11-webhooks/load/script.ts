/**
 * k6 load for the webhooks lab: the provider's traffic. 30 payments a second, each delivered as a
 * signed payment.succeeded webhook; a fifth of them delivered again at once (the provider's
 * retry after a lost answer). The SLO: every delivery acknowledged 2xx, p95 under 200 ms (the
 * provider's time-out), while fulfilment takes processingMs behind the answer.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e SECRET=whsec_provider_3f9c2a71 labs/11-webhooks/load/script.ts
 */
import { check } from 'k6';
import crypto from 'k6/crypto';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: {
    payments: { executor: 'constant-arrival-rate', rate: 30, timeUnit: '1s', duration: '1m', preAllocatedVUs: 20, maxVUs: 100 },
  },
  thresholds: {
    'http_req_failed{kind:delivery}': ['rate==0'],
    'http_req_duration{kind:delivery}': ['p(95)<200'],
  },
};

const BASE = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';
const SECRET = __ENV.SECRET ?? 'whsec_provider_3f9c2a71';

function send(raw: string) {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = crypto.hmac('sha256', SECRET, `${timestamp}.${raw}`, 'hex');
  return http.post(`${BASE}/webhooks/provider`, raw, {
    headers: { 'content-type': 'application/json', 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1=${signature}` },
    tags: { kind: 'delivery' },
  });
}

export default function () {
  const event = {
    id: `evt_load_${__VU}_${__ITER}_${Date.now()}`,
    type: 'payment.succeeded',
    created: Math.floor(Date.now() / 1000),
    data: { customerId: `cus_load_${__VU % 50}`, amountCents: 100 + (__ITER % 900) },
  };
  const raw = JSON.stringify(event);
  check(send(raw), { 'delivery acknowledged 2xx': (r) => r.status >= 200 && r.status < 300 });
  if (__ITER % 5 === 0) check(send(raw), { 'redelivery acknowledged 2xx': (r) => r.status >= 200 && r.status < 300 });
}
