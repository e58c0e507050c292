/**
 * Load for the rate-limiting lab (k6, TypeScript). Two clients hammer the API through a load
 * balancer that spreads them over the instances:
 *   - "greedy" sends twice its key's quota, steadily; about half of its requests must be refused;
 *   - "polite" stays under its quota; none of its requests may be refused.
 * Thresholds: the limiter may add little latency, no request fails outside 200/429, a greedy
 * client never gets more than its quota per window (plus one window of slack for the run's
 * edges), and a polite one is never limited because of the greedy one.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e GREEDY_KEY=pk_… -e POLITE_KEY=pk_… \
 *          -e LIMIT=100 -e WINDOW_S=60 labs/04-rate-limiting/load/script.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';

const BASE_URL = __ENV.BASE_URL ?? 'http://127.0.0.1:8080';
const LIMIT = Number(__ENV.LIMIT ?? 100);
const WINDOW_S = Number(__ENV.WINDOW_S ?? 60);
const DURATION_S = Number(__ENV.DURATION_S ?? 180);
const GREEDY_KEY = __ENV.GREEDY_KEY ?? 'pk_load_greedy';
const POLITE_KEY = __ENV.POLITE_KEY ?? 'pk_load_polite';

const greedyAllowed = new Counter('greedy_allowed');
const politeRefused = new Counter('polite_refused');

http.setResponseCallback(http.expectedStatuses(200, 429));

export const options: Options = {
  scenarios: {
    greedy: {
      executor: 'constant-arrival-rate',
      exec: 'greedy',
      rate: 2 * LIMIT,
      timeUnit: `${WINDOW_S}s`,
      duration: `${DURATION_S}s`,
      preAllocatedVUs: 10,
      maxVUs: 50,
    },
    polite: {
      executor: 'constant-arrival-rate',
      exec: 'polite',
      rate: Math.floor(LIMIT / 2),
      timeUnit: `${WINDOW_S}s`,
      duration: `${DURATION_S}s`,
      preAllocatedVUs: 5,
      maxVUs: 20,
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    http_req_duration: ['p(95)<100', 'p(99)<250'],
    checks: ['rate==1'],
    greedy_allowed: [`count<=${LIMIT * (Math.ceil(DURATION_S / WINDOW_S) + 1)}`],
    polite_refused: ['count==0'],
  },
};

function get(key: string) {
  return http.get(`${BASE_URL}/v1/postcodes/de/10115`, { headers: { 'X-API-Key': key }, tags: { name: 'postcode' } });
}

export function greedy(): void {
  const res = get(GREEDY_KEY);
  if (res.status === 200) greedyAllowed.add(1);
  check(res, {
    'answered 200 or 429': (r) => r.status === 200 || r.status === 429,
    '429 carries Retry-After': (r) => r.status !== 429 || /^\d+$/.test(String(r.headers['Retry-After'] ?? '')),
  });
}

export function polite(): void {
  const res = get(POLITE_KEY);
  if (res.status === 429) politeRefused.add(1);
  check(res, { 'polite client served': (r) => r.status === 200 });
}
