/**
 * k6 load for the timeouts-and-breakers lab: checkout traffic. 40 checkouts a second over five
 * skus, whose prices setup() writes through PUT /prices, plus a price change every second. The SLO:
 * p99 of checkouts under the 800 ms budget and every checkout answered 201 or 503 (never a 500,
 * never a hang), whatever inventory does.
 *
 * `lab serve` answers inventory from a healthy stub (lab.json "serve"). To see the budget and the
 * breaker at work, serve with inventoryUrl pointing at something slow or dead instead, e.g. a port
 * nothing listens on: checkouts must then degrade, fast, rather than fail.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 labs/13-timeouts-and-breakers/load/script.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  scenarios: {
    checkouts: {
      executor: 'constant-arrival-rate',
      rate: 40,
      timeUnit: '1s',
      duration: '1m',
      preAllocatedVUs: 40,
      maxVUs: 200,
      exec: 'buy',
    },
    merchandiser: { executor: 'constant-arrival-rate', rate: 1, timeUnit: '1s', duration: '1m', preAllocatedVUs: 2, exec: 'reprice' },
  },
  thresholds: {
    'http_req_duration{kind:checkout}': ['p(99)<800'],
    'checks{kind:checkout}': ['rate>0.99'],
  },
};

const BASE = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';
const SKUS = ['sku-1', 'sku-2', 'sku-3', 'sku-4', 'sku-5'];
const json = { headers: { 'content-type': 'application/json' } };

export function setup(): void {
  for (const sku of SKUS) http.put(`${BASE}/prices/${sku}`, JSON.stringify({ cents: 1_000 }), json);
}

export function buy(): void {
  const sku = SKUS[Math.floor(Math.random() * SKUS.length)]!;
  const res = http.post(`${BASE}/checkout`, JSON.stringify({ sku, qty: 1 }), { ...json, tags: { kind: 'checkout' } });
  check(res, { 'checkout answered 201 or 503': (r) => r.status === 201 || r.status === 503 }, { kind: 'checkout' });
}

export function reprice(): void {
  const sku = SKUS[Math.floor(Math.random() * SKUS.length)]!;
  const res = http.put(`${BASE}/prices/${sku}`, JSON.stringify({ cents: 900 + Math.floor(Math.random() * 200) }), {
    ...json,
    tags: { kind: 'price' },
  });
  check(res, { 'price write answered 200, 202 or 503': (r) => [200, 202, 503].includes(r.status) });
}
