/**
 * k6 load for the graceful-deploys lab: steady traffic to run a deploy under. 25 requests/s (an
 * open model: arrivals do not wait for answers), every fifth a slow report. SLO: not one failed
 * request while you replace the instances behind `lab serve` (kill one with SIGTERM and start
 * another), and the quick route's p95 under 100 ms.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 labs/07-graceful-deploys/load/script.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: {
    steady: { executor: 'constant-arrival-rate', rate: 25, timeUnit: '1s', duration: '60s', preAllocatedVUs: 20, maxVUs: 100 },
  },
  thresholds: {
    http_req_failed: ['rate==0'],
    'http_req_duration{route:quote}': ['p(95)<100'],
  },
};

const BASE = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';

export default function (): void {
  const slow = __ITER % 5 === 4;
  const res = http.get(`${BASE}/${slow ? 'report' : 'quote'}`, { tags: { route: slow ? 'report' : 'quote' } });
  check(res, { 'answered 200': (r) => r.status === 200 });
}
