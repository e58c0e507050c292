/**
 * k6 load for the connection-pooling lab: Monday 09:00. Dashboards refresh their saved reports
 * at a steady rate, and every 20 s a wall of screens wakes up at once (a spike to 10× the rate for
 * 5 s). The SLO: no 5xx at all, p95 under 500 ms through the spikes. A service whose pools fit its
 * share of the connection limit queues the spike for a moment; one that opens a session per
 * request gets 53300 from Postgres and answers 500.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 labs/10-connection-pooling/load/script.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: {
    steady: { executor: 'constant-arrival-rate', rate: 40, timeUnit: '1s', duration: '1m', preAllocatedVUs: 20, maxVUs: 100 },
    mondays: {
      executor: 'ramping-arrival-rate',
      startRate: 0,
      timeUnit: '1s',
      preAllocatedVUs: 50,
      maxVUs: 400,
      stages: [
        { target: 0, duration: '15s' },
        { target: 400, duration: '1s' },
        { target: 400, duration: '4s' },
        { target: 0, duration: '1s' },
        { target: 0, duration: '14s' },
        { target: 400, duration: '1s' },
        { target: 400, duration: '4s' },
        { target: 0, duration: '1s' },
      ],
    },
  },
  thresholds: {
    'http_req_failed{kind:report}': ['rate==0'],
    'http_req_duration{kind:report}': ['p(95)<500'],
  },
};

const BASE = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';
const REPORTS = ['revenue-by-region', 'top-customers', 'refund-rate-by-month'];

export default function () {
  const name = REPORTS[Math.floor(Math.random() * REPORTS.length)]!;
  const res = http.get(`${BASE}/reports/${name}`, { tags: { kind: 'report' } });
  check(res, {
    'report answered 200': (r) => r.status === 200,
    'never a 5xx': (r) => r.status < 500,
  });
}
