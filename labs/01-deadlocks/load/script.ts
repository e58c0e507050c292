/**
 * k6 load for the deadlocks lab: opposing transfers between a handful of hot accounts.
 * SLO: no failed transfer, p95 under 250 ms at 50 virtual users.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e ACCOUNTS=1,2,3,4 labs/01-deadlocks/load/script.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: {
    opposing: { executor: 'constant-vus', vus: 50, duration: '30s' },
  },
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(95)<250'],
    checks: ['rate==1'],
  },
};

const base = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';
const accounts = (__ENV.ACCOUNTS ?? '1,2,3,4').split(',').map(Number);

export default function (): void {
  const i = Math.floor(Math.random() * accounts.length);
  const from = accounts[i]!;
  const to = accounts[(i + 1 + Math.floor(Math.random() * (accounts.length - 1))) % accounts.length]!;
  const res = http.post(`${base}/transfers`, JSON.stringify({ from, to, amountCents: 1 }), {
    headers: { 'content-type': 'application/json' },
  });
  check(res, { 'transfer accepted (2xx)': (r) => r.status >= 200 && r.status < 300 });
}
