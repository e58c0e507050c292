/**
 * Load for the idempotency lab: k6 run --env BASE_URL=http://127.0.0.1:3000 labs/02-idempotency/load/script.ts
 *
 * Clients that behave like the mobile apps: every payment carries an Idempotency-Key; a fifth of
 * them are retried with the same key (as after a timeout), and some send the same key three times
 * at once (a double-tap plus a retry). The service must answer every retry with the original
 * payment, marked as a replay, and must stay fast while doing so.
 */
import { check } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';

const BASE_URL = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';

/** A replay that came back with a different payment than the original: a second charge. */
const wrongReplays = new Counter('wrong_replays');

// 409 (the first request with this key is still in flight) is an expected answer, not an error.
http.setResponseCallback(http.expectedStatuses(201, 409));

export const options: Options = {
  scenarios: {
    payments: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '1m', preAllocatedVUs: 20, maxVUs: 100 },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    wrong_replays: ['count==0'],
    'http_req_duration{kind:first}': ['p(95)<1000'],
    'http_req_duration{kind:replay}': ['p(95)<250'],
  },
};

interface Payment {
  id: number;
  customerId: string;
  amountCents: number;
}

function post(body: object, key: string, kind: 'first' | 'replay') {
  return http.post(`${BASE_URL}/payments`, JSON.stringify(body), {
    headers: { 'content-type': 'application/json', 'Idempotency-Key': key },
    tags: { kind },
  });
}

export default function () {
  const key = `load-${__VU}-${__ITER}-${Date.now()}`;
  const body = { customerId: `cus_load_${__VU % 50}`, amountCents: 100 + (__ITER % 900), currency: 'USD' };

  if (__ITER % 10 === 0) {
    // Three at once with one key: one charge; the others replay it or get 409.
    const params = { headers: { 'content-type': 'application/json', 'Idempotency-Key': key }, tags: { kind: 'first' } };
    const answers = http.batch([1, 2, 3].map(() => ['POST', `${BASE_URL}/payments`, JSON.stringify(body), params] as const));
    const created = answers.filter((r) => r.status === 201);
    const ids = new Set(created.map((r) => (r.json() as unknown as Payment).id));
    check(answers, {
      'concurrent duplicates: every answer is 201 or 409': (rs) => rs.every((r) => r.status === 201 || r.status === 409),
      'concurrent duplicates: at most one original': () => created.filter((r) => r.headers['Idempotent-Replayed'] !== 'true').length <= 1,
    });
    if (ids.size > 1) wrongReplays.add(ids.size - 1);
    return;
  }

  const first = post(body, key, 'first');
  check(first, { 'payment created (201)': (r) => r.status === 201 });
  if (first.status !== 201 || __ITER % 5 !== 0) return;

  const retry = post(body, key, 'replay');
  const original = first.json() as unknown as Payment;
  const replayed = retry.status === 201 ? (retry.json() as unknown as Payment) : undefined;
  check(retry, {
    'retry replays (201)': (r) => r.status === 201,
    'retry is marked Idempotent-Replayed': (r) => r.headers['Idempotent-Replayed'] === 'true',
  });
  if (replayed && replayed.id !== original.id) wrongReplays.add(1);
}
