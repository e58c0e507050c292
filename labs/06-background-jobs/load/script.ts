/**
 * k6 load for the background-jobs lab: receipts queued at a steady 50 per second (an open model:
 * arrivals do not wait for answers), each followed a few seconds later by a look at its job. SLO:
 * queuing never fails and stays fast (p95 under 100 ms: the API only inserts a row), and a receipt
 * queued 5 s ago is done (the workers keep up). `lab load` serves the API with two workers.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 labs/06-background-jobs/load/script.ts
 */
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: {
    receipts: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '30s', preAllocatedVUs: 20, maxVUs: 100 },
  },
  thresholds: {
    'http_req_failed{step:enqueue}': ['rate==0'],
    'http_req_duration{step:enqueue}': ['p(95)<100'],
    'checks{step:done}': ['rate>0.99'],
  },
};

const BASE = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';

export default function (): void {
  const orderId = `k6-${__VU}-${__ITER}`;
  const res = http.post(`${BASE}/receipts`, JSON.stringify({ orderId, email: `${orderId}@example.com`, amountCents: 1999 }), {
    headers: { 'content-type': 'application/json' },
    tags: { step: 'enqueue' },
  });
  check(res, { 'queued (202)': (r) => r.status === 202 }, { step: 'enqueue' });
  if (res.status !== 202) return;
  sleep(5);
  const job = http.get(`${BASE}/jobs/${res.json('jobId')}`, { tags: { step: 'status' } });
  check(job, { 'done within 5 s': (r) => r.json('status') === 'done' }, { step: 'done' });
}
