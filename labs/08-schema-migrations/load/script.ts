/**
 * k6 load for the schema-migrations lab: the traffic to run a migration under. An open model at 50
 * requests/s (arrivals do not wait for answers): 70 % reads of random users, 15 % sign-ups, 15 %
 * renames, all in v1's request shape ({ name }), which both versions take. SLO: not one failed
 * request while you run the expand, migrate and contract jobs and swap v1 for v2, and p95 under
 * 200 ms: a statement that queues every query behind its lock shows up as a cliff in the latency.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 labs/08-schema-migrations/load/script.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: {
    steady: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '90s', preAllocatedVUs: 20, maxVUs: 200 },
  },
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(95)<200'],
  },
};

const BASE = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';
const JSON_HEADERS = { headers: { 'Content-Type': 'application/json' } };

export default function (): void {
  const roll = Math.random();
  const id = 1 + Math.floor(Math.random() * 200_000);
  if (roll < 0.7) {
    const res = http.get(`${BASE}/users/${id}`, { tags: { route: 'read' } });
    check(res, { 'read answered 200': (r) => r.status === 200 });
  } else if (roll < 0.85) {
    const n = `${__VU}-${__ITER}`;
    const res = http.post(`${BASE}/users`, JSON.stringify({ name: `Load${n} Tester`, email: `load-${n}@example.test` }), {
      ...JSON_HEADERS,
      tags: { route: 'sign-up' },
    });
    check(res, { 'sign-up answered 201': (r) => r.status === 201 });
  } else {
    const res = http.put(`${BASE}/users/${id}`, JSON.stringify({ name: `Renamed${__ITER} Tester` }), {
      ...JSON_HEADERS,
      tags: { route: 'rename' },
    });
    check(res, { 'rename answered 200': (r) => r.status === 200 });
  }
}
