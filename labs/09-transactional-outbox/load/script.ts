/**
 * k6 load for the transactional-outbox lab: orders placed at a steady 50 per second (an open model:
 * arrivals do not wait for answers), one in five cancelled a moment later. SLO: placing an order
 * never fails and stays fast (p95 under 150 ms: one transaction, no call to Redis once the outbox is
 * in), and an order placed 5 s ago is shipped (checked afterwards in the database: every committed
 * order has one shipment, booked or cancelled). Needs the seed (products) and the processes beside
 * the API: createWorker with settings.service 'orders' and 'shipping'. `lab serve transactional-outbox`
 * starts all of it (lab.json "serve.workers": one 'orders', two 'shipping'); then:
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 labs/09-transactional-outbox/load/script.ts
 */
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: {
    orders: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '30s', preAllocatedVUs: 20, maxVUs: 100 },
  },
  thresholds: {
    'http_req_failed{step:place}': ['rate==0'],
    'http_req_duration{step:place}': ['p(95)<150'],
    'checks{step:cancel}': ['rate>0.99'],
  },
};

const BASE = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';
const JSON_HEADERS = { 'content-type': 'application/json' };

export default function (): void {
  const res = http.post(`${BASE}/orders`, JSON.stringify({ customer: `k6-${__VU}`, sku: 'tea', quantity: 1 }), {
    headers: JSON_HEADERS,
    tags: { step: 'place' },
  });
  check(res, { 'placed (201)': (r) => r.status === 201 }, { step: 'place' });
  if (res.status !== 201 || __ITER % 5 !== 0) return;
  sleep(0.1);
  const cancel = http.post(`${BASE}/orders/${res.json('id')}/cancel`, null, { tags: { step: 'cancel' } });
  check(cancel, { 'cancelled (200)': (r) => r.status === 200 }, { step: 'cancel' });
}
